// pgBackRest's main-then-.copy loading of info files and manifests (FORMAT.md §4.4) as pure functions over a
// reader callback, so the same logic serves the tools, the daemon and the tests. Load: try `X`; on ANY error
// (missing, decrypt, parse, checksum) try `X.copy`; if both fail, throw ONE error naming both files and listing
// both reasons. Save: the model renders once (render()); the caller writes those exact bytes to main, then copy.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "backup/archive_info.h"
#include "backup/backup_info.h"
#include "backup/manifest.h"

namespace pgbr::backup {

// Returns the decrypted plaintext of the file at `path`, std::nullopt if it does not exist, or throws (I/O error,
// crypto::CryptoError for a wrong passphrase or a truncated file, ...). Called at most once per path.
using InfoFileReader = std::function<std::optional<std::string>(const std::string& path)>;
// Turns plaintext into a model; throws FormatError/ChecksumError/... on anything wrong. `path` is for messages.
using InfoFileParser = std::function<void(std::string_view plaintext, const std::string& path)>;

inline constexpr const char* kInfoCopyExtension = ".copy";

// What the file is called in the combined error: "info file" or "backup manifest file".
enum class InfoFileKind { Info, Manifest };

// Thread-safe as far as `read` and `parse` are; no state is kept between calls.
// Tries `path`, then `path + ".copy"`, giving the first plaintext that reads to `parse`; returns the path that
// worked. When both fail, throws one exception whose what() is
//   "unable to load info file 'X' or 'X.copy':\n<Kind>: <reason for X>\n<Kind>: <reason for X.copy>"
// (Kind = FileMissingError, FormatError, JsonFormatError, ChecksumError, CryptoError, ...; "backup manifest file"
// for manifests), with a hint when the text looks like the product of a wrong passphrase. Its type follows
// pgBackRest: the kind of the first failure, replaced by a later different kind unless that is a missing file;
// so FileMissingError only when neither file exists. crypto::CryptoError stays a crypto::CryptoError, anything
// else becomes FormatError. std::bad_alloc is not caught.
std::string loadInfoFileWithFallback(const std::string& path, const InfoFileReader& read,
                                     const InfoFileParser& parse, InfoFileKind kind = InfoFileKind::Info);

// The models through loadInfoFileWithFallback(). `path` is the main file (".../archive.info").
ArchiveInfo loadArchiveInfo(const std::string& path, const InfoFileReader& read);
BackupInfo loadBackupInfo(const std::string& path, const InfoFileReader& read);
Manifest loadManifest(const std::string& path, const InfoFileReader& read);

// The two files a save writes, in the order pgBackRest writes them: `path`, then `path.copy`. Both get the same
// bytes (one render, one encryption).
std::array<std::string, 2> infoFileWriteOrder(const std::string& path);

}  // namespace pgbr::backup
