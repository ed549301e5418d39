// pgBackRest's numbered errors (src/build/error/error.yaml of 2.45), so that pgbr exits with the number pgBackRest
// would for the same failure and users can search for it. CommandError is what command code throws; the one catch
// point of a tool turns any exception into a CommandError (commandErrorFor) and exits with its code.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgbr::backup {

// Values are pgBackRest's error codes; never renumber. Only those pgbr raises are listed.
enum class ErrorCode : int {
  Checksum = 26,
  Config = 27,
  FileInvalid = 28,
  Format = 29,
  CommandRequired = 30,
  OptionInvalid = 31,
  OptionInvalidValue = 32,
  OptionRequired = 37,
  PgRunning = 38,
  PathNotEmpty = 40,
  FileOpen = 41,
  FileRead = 42,
  ParamRequired = 43,
  ArchiveMismatch = 44,
  ArchiveDuplicate = 45,
  VersionNotSupported = 46,
  CommandInvalid = 48,
  LockAcquire = 50,
  FileMissing = 55,
  DbConnect = 56,
  DbQuery = 57,
  DbMismatch = 58,
  FileWrite = 64,
  FeatureNotSupported = 67,
  PathMissing = 73,
  BackupSetInvalid = 75,
  ArchiveTimeout = 82,
  Crypto = 95,
  ParamInvalid = 96,
  JsonFormat = 99,
  RepoInvalid = 103,
  Command = 104,
  Runtime = 122,
  Unhandled = 124,
};

// pgBackRest's name of the error: "ArchiveMismatchError", ...
std::string_view errorCodeName(ErrorCode code);

// A failure a user can meet. what() is pgBackRest-style text (lowercase, the file named in quotes); hint() one or
// more lines telling what to do (each printed as "HINT: ..."), or empty.
class CommandError : public std::runtime_error {
 public:
  CommandError(ErrorCode code, const std::string& message, std::string hint = {})
      : std::runtime_error(message), code_(code), hint_(std::move(hint)) {}

  ErrorCode code() const noexcept { return code_; }
  int exitCode() const noexcept { return static_cast<int>(code_); }
  const std::string& hint() const noexcept { return hint_; }
  // what() followed by "\nHINT: <line>" for each line of hint().
  std::string describe() const;

 private:
  ErrorCode code_;
  std::string hint_;
};

// The CommandError for any exception the libraries throw, with the code pgBackRest uses for that kind:
// FormatError 29, ChecksumError 26, JsonFormatError 99, FileMissingError 55, crypto::CryptoError 95,
// ConfigError 27 (31 for options refused on the command line), StorageError 41, anything else 122.
// Hints of the original are kept. Call inside a catch block with std::current_exception().
CommandError commandErrorFor(const std::exception_ptr& error);

}  // namespace pgbr::backup
