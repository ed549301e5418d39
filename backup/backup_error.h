// Errors raised by backup/'s byte streams: data that is malformed (FormatError, the one class of
// backup/format_error.h: a second class of that name here broke the one-definition rule, and the linker picked one
// destructor and typeinfo for both) or recognised but not supported (UnsupportedError). Messages follow pgBackRest's voice: lowercase, the failing part named first
// ("gz decompress: unexpected end of stream (truncated file?)"); the hint says what the user can do.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "backup/format_error.h"

namespace pgbr::backup {

enum class BackupErrorKind {
  Format,       // bytes that do not follow the format: corrupt, truncated, trailing garbage, wrong type
  Unsupported,  // a format pgBackRest reserves but this build cannot handle (e.g. xz compression)
};

class BackupError : public std::runtime_error {
 public:
  BackupError(BackupErrorKind kind, const std::string& message, std::string hint = {})
      : std::runtime_error(message), kind_(kind), hint_(std::move(hint)) {}

  BackupErrorKind kind() const noexcept { return kind_; }
  // One line telling the user what to do, or empty.
  const std::string& hint() const noexcept { return hint_; }

 private:
  BackupErrorKind kind_;
  std::string hint_;
};

class UnsupportedError : public BackupError {
 public:
  explicit UnsupportedError(const std::string& message, std::string hint = {})
      : BackupError(BackupErrorKind::Unsupported, message, std::move(hint)) {}
};

// The standard stream errors, worded in one place. `filter` is Filter::name(), e.g. "gz decompress".
// "<filter>: unexpected end of stream (truncated file?)"
FormatError truncatedStreamError(std::string_view filter);
// "<filter>: unexpected data after end of stream"
FormatError trailingDataError(std::string_view filter);
// "<filter>: <what>", e.g. "<filter>: invalid data (incorrect header check)"
FormatError corruptStreamError(std::string_view filter, std::string_view what);

}  // namespace pgbr::backup
