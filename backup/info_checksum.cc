#include "backup/info_checksum.h"

#include "backup/format_error.h"
#include "backup/json_value.h"
#include "crypto/sha1.h"

namespace pgbr::backup {
namespace {

bool isChecksumEntry(const std::string& section, const std::string& key) {
  return section == kSectionBackrest && key == kKeyChecksum;
}

}  // namespace

std::string infoChecksumInput(const IniDocument& document) {
  std::string input = "{";
  const std::string* lastSection = nullptr;
  for (const IniDocument::Section& section : document.sections()) {
    for (const IniDocument::Entry& entry : section.entries) {
      if (isChecksumEntry(section.name, entry.key)) continue;
      if (lastSection == nullptr || *lastSection != section.name) {
        if (lastSection != nullptr) input += "},";
        // The section name goes in verbatim, unescaped, as pgBackRest does.
        input += '"';
        input += section.name;
        input += "\":{";
        lastSection = &section.name;
      } else {
        input += ',';
      }
      JsonValue::renderString(input, entry.key);
      input += ':';
      input += entry.value;
    }
  }
  input += lastSection != nullptr ? "}}" : "}";
  return input;
}

std::string infoChecksum(const IniDocument& document) {
  return crypto::Sha1::hexOf(asBytes(infoChecksumInput(document)));
}

void checkInfoFormat(const IniDocument& document, const std::string& path) {
  const std::string* raw = document.find(kSectionBackrest, kKeyFormat);
  const std::string prefix = "invalid format in '" + path + "', expected format " + std::to_string(kRepositoryFormat);
  if (raw == nullptr) throw FormatError(prefix + " but key '" + kKeyFormat + "' is missing");
  const JsonValue value = JsonValue::parse(*raw);
  if (!value.isUInt64() || value.asUInt64() != kRepositoryFormat)
    throw FormatError(prefix + " but found " + printableForMessage(*raw));
}

void verifyInfoChecksum(const IniDocument& document, const std::string& path) {
  const std::string actual = infoChecksum(document);
  const std::string* raw = document.find(kSectionBackrest, kKeyChecksum);
  const std::string prefix = "invalid checksum in '" + path + "', actual '" + actual + "' but ";
  if (raw == nullptr) throw ChecksumError(prefix + "no checksum found");
  const JsonValue expected = JsonValue::parse(*raw);
  if (!expected.isString()) throw ChecksumError(prefix + "found " + printableForMessage(*raw) + " instead of a checksum");
  if (expected.asString() != actual)
    throw ChecksumError(prefix + "expected '" + printableForMessage(expected.asString()) + "'");
}

void verifyInfoDocument(const IniDocument& document, const std::string& path) {
  checkInfoFormat(document, path);
  verifyInfoChecksum(document, path);
}

void sealInfoDocument(IniDocument& document) {
  document.remove(kSectionBackrest, kKeyChecksum);
  const std::string checksum = infoChecksum(document);
  std::string value;
  JsonValue::renderString(value, checksum);
  // Always a section of its own at the end, even right after another [backrest] section: pgBackRest's layout.
  document.appendSection(kSectionBackrest);
  document.add(kSectionBackrest, kKeyChecksum, std::move(value));
}

}  // namespace pgbr::backup
