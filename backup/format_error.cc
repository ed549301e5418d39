#include "backup/format_error.h"

namespace pgbr::backup {

std::string FormatError::withHint() const {
  std::string text = what();
  if (!hint_.empty()) text += "\nHINT: " + hint_;
  return text;
}

std::string printableForMessage(std::string_view text, std::size_t maxBytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  const std::size_t shown = text.size() < maxBytes ? text.size() : maxBytes;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
    } else {
      out += "\\x";
      out += kDigits[byte >> 4];
      out += kDigits[byte & 0xf];
    }
  }
  if (shown < text.size()) out += "...";
  return out;
}

}  // namespace pgbr::backup
