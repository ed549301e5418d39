// Errors raised while reading or writing pgBackRest's text formats: info files, manifests and their JSON values
// (FORMAT.md §4, §5). Names and messages follow pgBackRest's (FormatError, JsonFormatError, ChecksumError,
// FileMissingError) so users can search for them; kind() gives that name for "<Kind>: <message>" lines.
// what() is the message alone; hint() is one line telling the user what to do, or empty.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgbr::backup {

// Malformed or inconsistent content: a line that is not strict ini, a missing or mistyped key, a bad format number.
class FormatError : public std::runtime_error {
 public:
  explicit FormatError(const std::string& message, std::string hint = {})
      : std::runtime_error(message), hint_(std::move(hint)) {}

  // pgBackRest's name for this kind of error ("FormatError", "ChecksumError", ...).
  virtual const char* kind() const noexcept { return "FormatError"; }
  // One line telling the user what to do, or empty.
  const std::string& hint() const noexcept { return hint_; }
  // what() followed by "\nHINT: <hint>" when there is a hint: the text a tool prints.
  std::string withHint() const;

 private:
  std::string hint_;
};

// A JSON value that is not in the form pgBackRest writes (FORMAT.md §4), with its offset and the reason.
class JsonFormatError : public FormatError {
 public:
  using FormatError::FormatError;
  const char* kind() const noexcept override { return "JsonFormatError"; }
};

// backrest-checksum does not match the content (FORMAT.md §4.1), or is missing.
class ChecksumError : public FormatError {
 public:
  using FormatError::FormatError;
  const char* kind() const noexcept override { return "ChecksumError"; }
};

// A required file is absent (neither an info file nor its .copy exist). Derives from FormatError so that one
// catch covers every way a repository file can fail to load; catch it first to treat absence differently.
class FileMissingError : public FormatError {
 public:
  using FormatError::FormatError;
  const char* kind() const noexcept override { return "FileMissingError"; }
};

// `text` as it may appear inside an error message: printable ASCII as is, other bytes as \xNN, cut after
// `maxBytes` input bytes with "..." appended. Decrypting with a wrong passphrase yields binary garbage that would
// otherwise end up in logs raw.
std::string printableForMessage(std::string_view text, std::size_t maxBytes = 80);

}  // namespace pgbr::backup
