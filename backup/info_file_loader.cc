#include "backup/info_file_loader.h"

#include <new>
#include <vector>

#include "backup/format_error.h"
#include "crypto/crypto_error.h"

namespace pgbr::backup {
namespace {

// Why one of the two files could not be loaded.
struct Failure {
  std::string kind;     // pgBackRest's error name
  std::string message;  // what()
  std::string hint;
  std::optional<crypto::CryptoErrorKind> cryptoKind;
};

constexpr std::string_view kGarbageMessage = "key/value found outside of section at line 1:";
constexpr std::string_view kCipherHeader = "Salted__";

// Fills in a hint when the failure looks like the work of a wrong or missing passphrase: text that is not an info
// file from its first line on (FORMAT.md §2, "error behaviour with a wrong passphrase").
void addPassphraseHint(Failure& failure, std::string_view plaintext) {
  if (!failure.hint.empty() || failure.message.rfind(kGarbageMessage, 0) != 0) return;
  if (plaintext.substr(0, kCipherHeader.size()) == kCipherHeader)
    failure.hint = "the file is still encrypted: is the repository cipher type and passphrase configured?";
  else
    failure.hint = "the content is not an info file: is the repository cipher passphrase correct?";
}

// Runs one attempt; nullopt on success.
std::optional<Failure> attempt(const std::string& path, const InfoFileReader& read, const InfoFileParser& parse) {
  std::optional<std::string> plaintext;
  try {
    plaintext = read(path);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const crypto::CryptoError& error) {
    return Failure{"CryptoError", error.what(), error.hint(), error.kind()};
  } catch (const FormatError& error) {
    return Failure{error.kind(), error.what(), error.hint(), std::nullopt};
  } catch (const std::exception& error) {
    return Failure{"FileReadError", error.what(), {}, std::nullopt};
  }
  if (!plaintext) return Failure{"FileMissingError", "unable to open missing file '" + path + "' for read", {}, {}};

  try {
    parse(*plaintext, path);
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const FormatError& error) {
    Failure failure{error.kind(), error.what(), error.hint(), std::nullopt};
    addPassphraseHint(failure, *plaintext);
    return failure;
  } catch (const crypto::CryptoError& error) {
    return Failure{"CryptoError", error.what(), error.hint(), error.kind()};
  } catch (const std::exception& error) {
    return Failure{"FormatError", error.what(), {}, std::nullopt};
  }
}

[[noreturn]] void throwCombined(const std::string& path, InfoFileKind kind, const std::vector<Failure>& failures) {
  std::string message = std::string("unable to load ") + (kind == InfoFileKind::Manifest ? "backup manifest" : "info") +
                        " file '" + path + "' or '" + path + kInfoCopyExtension + "':";
  std::string hint;
  std::size_t chosen = 0;
  for (std::size_t index = 0; index < failures.size(); ++index) {
    const Failure& failure = failures[index];
    message += "\n" + failure.kind + ": " + failure.message;
    if (!failure.hint.empty() && hint.find(failure.hint) == std::string::npos)
      hint += (hint.empty() ? "" : "\nHINT: ") + failure.hint;
    // pgBackRest's choice of error type: the first one, replaced by a later different one unless that later one
    // is a missing file (most likely the least interesting).
    if (failure.kind != failures[chosen].kind && failure.kind != "FileMissingError") chosen = index;
  }
  const Failure& type = failures.at(chosen);
  if (type.cryptoKind) throw crypto::CryptoError(*type.cryptoKind, message, hint);
  if (type.kind == "FileMissingError") throw FileMissingError(message, hint);
  if (type.kind == "ChecksumError") throw ChecksumError(message, hint);
  if (type.kind == "JsonFormatError") throw JsonFormatError(message, hint);
  throw FormatError(message, hint);
}

template <typename Model>
Model loadModel(const std::string& path, const InfoFileReader& read, InfoFileKind kind) {
  std::optional<Model> model;
  loadInfoFileWithFallback(
      path, read,
      [&model](std::string_view plaintext, const std::string& attemptPath) {
        model.emplace(Model::parse(plaintext, attemptPath));
      },
      kind);
  return std::move(*model);
}

}  // namespace

std::string loadInfoFileWithFallback(const std::string& path, const InfoFileReader& read,
                                     const InfoFileParser& parse, InfoFileKind kind) {
  std::vector<Failure> failures;
  for (const std::string& candidate : {path, path + kInfoCopyExtension}) {
    std::optional<Failure> failure = attempt(candidate, read, parse);
    if (!failure) return candidate;
    failures.push_back(std::move(*failure));
  }
  throwCombined(path, kind, failures);
}

ArchiveInfo loadArchiveInfo(const std::string& path, const InfoFileReader& read) {
  return loadModel<ArchiveInfo>(path, read, InfoFileKind::Info);
}

BackupInfo loadBackupInfo(const std::string& path, const InfoFileReader& read) {
  return loadModel<BackupInfo>(path, read, InfoFileKind::Info);
}

Manifest loadManifest(const std::string& path, const InfoFileReader& read) {
  return loadModel<Manifest>(path, read, InfoFileKind::Manifest);
}

std::array<std::string, 2> infoFileWriteOrder(const std::string& path) { return {path, path + kInfoCopyExtension}; }

}  // namespace pgbr::backup
