#include "backup/pgbackrest_error.h"

#include <array>
#include <utility>

#include "backup/backup_error.h"
#include "backup/format_error.h"
#include "backup/pgbackrest_config.h"
#include "backup/storage_error.h"
#include "crypto/crypto_error.h"

namespace pgbr::backup {

namespace {

constexpr auto kNames = std::to_array<std::pair<ErrorCode, std::string_view>>({
    {ErrorCode::Checksum, "ChecksumError"},
    {ErrorCode::Config, "ConfigError"},
    {ErrorCode::FileInvalid, "FileInvalidError"},
    {ErrorCode::Format, "FormatError"},
    {ErrorCode::CommandRequired, "CommandRequiredError"},
    {ErrorCode::OptionInvalid, "OptionInvalidError"},
    {ErrorCode::OptionInvalidValue, "OptionInvalidValueError"},
    {ErrorCode::OptionRequired, "OptionRequiredError"},
    {ErrorCode::PgRunning, "PgRunningError"},
    {ErrorCode::PathNotEmpty, "PathNotEmptyError"},
    {ErrorCode::FileOpen, "FileOpenError"},
    {ErrorCode::FileRead, "FileReadError"},
    {ErrorCode::ParamRequired, "ParamRequiredError"},
    {ErrorCode::ArchiveMismatch, "ArchiveMismatchError"},
    {ErrorCode::ArchiveDuplicate, "ArchiveDuplicateError"},
    {ErrorCode::VersionNotSupported, "VersionNotSupportedError"},
    {ErrorCode::CommandInvalid, "CommandInvalidError"},
    {ErrorCode::LockAcquire, "LockAcquireError"},
    {ErrorCode::FileMissing, "FileMissingError"},
    {ErrorCode::DbConnect, "DbConnectError"},
    {ErrorCode::DbQuery, "DbQueryError"},
    {ErrorCode::DbMismatch, "DbMismatchError"},
    {ErrorCode::FileWrite, "FileWriteError"},
    {ErrorCode::FeatureNotSupported, "FeatureNotSupportedError"},
    {ErrorCode::PathMissing, "PathMissingError"},
    {ErrorCode::BackupSetInvalid, "BackupSetInvalidError"},
    {ErrorCode::ArchiveTimeout, "ArchiveTimeoutError"},
    {ErrorCode::Crypto, "CryptoError"},
    {ErrorCode::ParamInvalid, "ParamInvalidError"},
    {ErrorCode::JsonFormat, "JsonFormatError"},
    {ErrorCode::RepoInvalid, "RepoInvalidError"},
    {ErrorCode::Command, "CommandError"},
    {ErrorCode::Runtime, "RuntimeError"},
    {ErrorCode::Unhandled, "UnhandledError"},
});

ErrorCode codeForFormatError(const FormatError& error) {
  if (dynamic_cast<const FileMissingError*>(&error)) return ErrorCode::FileMissing;
  if (dynamic_cast<const ChecksumError*>(&error)) return ErrorCode::Checksum;
  if (dynamic_cast<const JsonFormatError*>(&error)) return ErrorCode::JsonFormat;
  return ErrorCode::Format;
}

}  // namespace

std::string_view errorCodeName(ErrorCode code) {
  for (const auto& [known, name] : kNames)
    if (known == code) return name;
  return "UnknownError";
}

std::string CommandError::describe() const {
  std::string text = what();
  std::string_view rest = hint_;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    text += "\nHINT: ";
    text += rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  return text;
}

CommandError commandErrorFor(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const CommandError& e) {
    return e;
  } catch (const FormatError& e) {
    return CommandError(codeForFormatError(e), e.what(), e.hint());
  } catch (const BackupError& e) {
    return CommandError(e.kind() == BackupErrorKind::Unsupported ? ErrorCode::FeatureNotSupported : ErrorCode::Format,
                        e.what(), e.hint());
  } catch (const crypto::CryptoError& e) {
    return CommandError(ErrorCode::Crypto, e.what(), e.hint());
  } catch (const ConfigError& e) {
    return CommandError(ErrorCode::Config, e.what(), e.hint());
  } catch (const StorageError& e) {
    return CommandError(ErrorCode::FileOpen, e.what());
  } catch (const std::bad_alloc&) {
    return CommandError(ErrorCode::Runtime, "out of memory");
  } catch (const std::exception& e) {
    return CommandError(ErrorCode::Runtime, e.what());
  } catch (...) {
    return CommandError(ErrorCode::Unhandled, "unknown exception");
  }
}

}  // namespace pgbr::backup
