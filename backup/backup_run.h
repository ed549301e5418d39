// One online backup of a PostgreSQL >= 15 cluster into a stanza (FORMAT.md §8): pg_backup_start over libpq, the
// manifest built from PGDATA and compared with the prior backup (diff/incr), every file streamed through the
// write pipeline (SHA-1, size, compression) into backup/<stanza>/<label>/ by `process-max` threads,
// pg_backup_stop, backup_label/tablespace_map stored, the WAL range awaited in the archive, and the commit in
// pgBackRest's order (§8.12). The repository is plaintext storage: on an encrypted pgbrfs mount the mount
// encrypts, and this code only writes the manifest sub-pass that the format needs (§3).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/backup_label.h"
#include "backup/compress_type.h"
#include "backup/pg_connection.h"
#include "backup/posix_storage.h"

namespace pgbr::backup {

struct BackupOptions {
  BackupType type = BackupType::Incr;     // --type; diff/incr fall back to full when there is no prior backup
  std::filesystem::path pgPath;           // pg1-path
  bool startFast = false;                 // --start-fast: immediate checkpoint in pg_backup_start
  bool delta = false;                     // --delta: compare files with the prior backup by checksum
  CompressType compressType = CompressType::Gz;
  std::optional<int> compressLevel;       // nullopt: the type's default
  unsigned processMax = 1;                // worker threads copying files
  bool archiveCheck = true;               // wait for the backup's WAL in the archive
  std::chrono::milliseconds archiveTimeout{60000};
  std::vector<std::string> excludes;      // --exclude, relative to PGDATA
  bool encrypted = false;                 // the repository is an encrypted pgbrfs mount: write [cipher] sub-passes
  // --checksum-page: validate data page checksums while copying; nullopt = when the cluster has data checksums.
  std::optional<bool> checksumPage;
};

// Callbacks from the backup (always called on the thread that called runBackup()).
struct BackupEvents {
  std::function<void(const std::string&)> warn;
  std::function<void(const std::string&)> info;
  std::function<void(const std::string&)> detail;
  // Bytes of files copied so far and in total; called about every 100 ms while files are copied.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct BackupResult {
  std::string label;
  BackupType type = BackupType::Full;
  std::uint64_t size = 0;         // Σ size of the backup (including referenced files)
  std::uint64_t sizeDelta = 0;    // Σ size of files stored by this backup
  std::uint64_t repoSizeDelta = 0;
  std::size_t fileCount = 0;
  std::size_t filesCopied = 0;
  std::string archiveStart, archiveStop;
};

// Runs the backup. `connection` is a connection to the cluster at options.pgPath (the non-exclusive backup lives
// in its session: if the process dies, PostgreSQL ends it). Throws CommandError: DbMismatch when the connection and
// pg1-path are different clusters, FileInvalid when the stanza does not match the cluster, FileOpen/FileRead/
// FileWrite naming the file, ArchiveTimeout when the WAL does not reach the archive in time. A backup that fails
// leaves a directory without backup.manifest, which backup.info does not list and the next backup removes.
BackupResult runBackup(PgConnection& connection, PosixStorage& repo, std::string_view stanza,
                       const std::string& repoPath, const BackupOptions& options, const BackupEvents& events);

}  // namespace pgbr::backup
