// The manifest of a new backup built from the cluster's data directory (FORMAT.md §5, §8 steps 4 and 6): every
// directory, file and link of PGDATA and of its tablespaces (reached through pg_tblspc links) with size, mtime,
// owner and mode, minus what pgBackRest leaves out; and for diff/incr backups the comparison with the prior
// manifest that decides which files are referenced instead of copied. Pure file-system walking and manifest
// editing: no repository, no database connection.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "backup/manifest.h"

namespace pgbr::backup {

struct ManifestBuildOptions {
  std::string pgVersion = "15";          // PG_VERSION: selects the exclusions and the tablespace directory
  std::uint32_t catalogVersion = 0;      // names the tablespace directory PG_<version>_<catalog version>
  bool online = true;                    // online: the contents of pg_wal are left out
  // --exclude: paths relative to PGDATA. "dir/" leaves out the contents of dir (the directory is kept); "name"
  // leaves out the file or directory name and everything below it.
  std::vector<std::string> excludes;
  std::map<std::string, std::string> tablespaceNames;  // oid -> name, from pg_tablespace
  // checksum-page: mark relation files (isPageChecksummedFile) with checksum-page so that the copy checks them.
  bool checksumPage = false;
  // Called for entries left out with a warning (sockets, devices, unreadable links).
  std::function<void(const std::string&)> warn;
};

// Walks `pgPath` and fills manifest.targets, files, links, paths and their defaults (owner and modes of PGDATA).
// Files get size and timestamp only. Entries are sorted by name. Throws CommandError(PathMissing) when `pgPath`
// is missing, CommandError(FileOpen/FileRead) when a directory or entry cannot be read.
void buildManifestFromPgData(Manifest& manifest, const std::filesystem::path& pgPath,
                             const ManifestBuildOptions& options);

// Why a diff/incr backup compares files by checksum (FORMAT.md §8 step 6), or nothing when size and timestamp
// are enough. `copyStart` is the new backup's copy start (unix seconds).
std::optional<std::string> deltaReason(const Manifest& manifest, const Manifest& prior, std::int64_t copyStart);

// What the comparison with the prior backup decided for one file of the new manifest.
enum class FileDecision {
  Copy,       // store it in this backup
  Reference,  // unchanged: reference the prior backup's copy (already applied to the entry)
  Checksum,   // delta: sizes match; copy only when the SHA-1 of the file differs from priorChecksum
};

struct FileComparison {
  FileDecision decision = FileDecision::Copy;
  std::string priorChecksum;  // for Checksum
};

// Marks each file of `manifest` found unchanged in `prior` (same size and timestamp, or both empty) as referenced:
// it takes the prior entry's checksum, rck, repo-size, page check and bundle fields and `reference` = the prior
// entry's reference or the prior label. With `delta`, files of equal size are Checksum candidates instead and
// timestamps do not count. Returns one comparison per file of manifest.files (same order).
std::vector<FileComparison> compareWithPrior(Manifest& manifest, const Manifest& prior, bool delta);

// Makes file `index` of `manifest` reference the prior backup's copy `priorFile` (used after a delta checksum
// matched).
void referencePriorFile(ManifestFile& file, const ManifestFile& priorFile, const std::string& priorLabel);

// Files pgBackRest copies only up to the size recorded in the manifest (the rest is replayed from WAL): under
// base/, global/ (except pg_control), pg_xact, pg_multixact and tablespaces. Other files are copied whole.
bool copyLimitedToManifestSize(std::string_view manifestName);

}  // namespace pgbr::backup
