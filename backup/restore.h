// Restore of one backup set into a data directory (and its tablespaces), reading the plaintext backup files of a
// pgBackRest 2.45 repository through Storage: an encrypted repository is read through a pgbrfs mount, which
// decrypts. Every file is taken from the backup that holds it (its reference, FORMAT.md §5.2), from bundles at
// their offsets on unencrypted repositories (§6, §12), decompressed, and checked against the manifest's size and
// SHA-1. Directories, links, modes, owners (as root) and modification times follow the manifest; --delta keeps
// files whose size and SHA-1 already match and removes what the backup does not have.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "backup/manifest.h"
#include "backup/posix_storage.h"

namespace pgbr::backup {

struct RestoreOptions {
  std::string stanza;
  std::optional<std::string> set;                    // --set: a label; nullopt = the newest backup
  std::filesystem::path pgPath;                      // pg1-path: must exist; empty unless delta
  bool delta = false;                                // --delta: reuse matching files, remove the rest
  bool force = false;                                // --force: restore into a non-empty directory without delta
  std::map<std::string, std::string> tablespaceMap;  // --tablespace-map NAME or OID -> path
  std::optional<std::string> tablespaceMapAll;       // --tablespace-map-all: parent for every tablespace
  std::map<std::string, std::string> linkMap;        // --link-map: link (relative to PGDATA) -> destination
  bool linkAll = false;                              // --link-all: restore every link, not only tablespaces
  unsigned processMax = 1;                           // worker threads copying files
  bool repoEncrypted = false;                        // the repository is an encrypted pgbrfs mount
  bool preserveRecoveryFiles = false;                // --type=preserve: keep recovery.signal/standby.signal
  // Called from the copying threads (serialised) with a line for the log: level detail for each file, info for
  // the progress (at most every 5 seconds) and the summary.
  std::function<void(bool detail, const std::string& line)> log;
};

struct RestoreResult {
  std::string label;
  std::uint64_t fileTotal = 0;
  std::uint64_t sizeTotal = 0;        // bytes of all files restored (their manifest size)
  std::uint64_t reusedFiles = 0;      // delta: files kept because size and SHA-1 matched
  std::uint64_t removed = 0;          // delta: entries removed because the backup does not have them
  std::string pgVersion;              // the backup's PostgreSQL version ("15")
};

// The label --set selects: `set` itself when backup.info has it, the newest backup otherwise. Throws
// CommandError(BackupSetInvalid) for an unknown label and when the stanza has no backup.
std::string selectBackupSet(Storage& repo, const std::string& stanza, const std::optional<std::string>& set,
                            const std::string& repoPath);

// Restores the set. Throws CommandError: PathMissing when pg1-path does not exist; PathNotEmpty when it (or a
// tablespace directory) holds files and neither delta nor force is set; PgRunning when postmaster.pid exists;
// FeatureNotSupported for block-incremental backups (bundle members on an encrypted repository are read through
// the mount's snapshot view, which decrypts them one by one); FileMissing for a backup file absent from the
// repository; Checksum when a restored file's size or SHA-1 differs from the manifest (naming the file and the
// repository file); Format for a file that does not decompress; FileWrite/FileOpen for the destination.
// global/pg_control is written last, so an interrupted restore cannot be started.
RestoreResult restoreBackup(PosixStorage& repo, const RestoreOptions& options);

}  // namespace pgbr::backup
