// Copying the files of a backup into the repository (FORMAT.md §8 step 9): each file read from the cluster (up to
// its manifest size where pgBackRest does so), streamed through the write pipeline (SHA-1, size, compression) into
// <label dir>/<manifest name><ext> by `processMax` threads, largest first; delta candidates hashed first and only
// copied when their SHA-1 differs from the prior backup's; files that vanish are dropped. Then the results are
// written into the manifest. No database connection: the cluster is only read as files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backup/backup_manifest_build.h"
#include "backup/compress_type.h"
#include "backup/manifest.h"
#include "backup/page_checksum.h"
#include "backup/posix_storage.h"
#include "backup/repo_filters.h"

namespace pgbr::backup {

// Bytes read and written per call: pgBackRest's buffer-size, recorded as option-buffer-size.
inline constexpr std::size_t kBackupBufferSize = 1024 * 1024;

struct BackupCopyOptions {
  CompressType compressType = CompressType::Gz;
  std::optional<int> compressLevel;  // nullopt: the type's default
  unsigned processMax = 1;
  bool encrypted = false;            // the repository is an encrypted pgbrfs mount (changes repo-size and rck)
  std::uint64_t backupStartLsn = 0;  // pages changed after it are not page-checked (they may be torn)
  // backup.manifest.copy is saved each time this many more bytes (or 1% of the total, if more) were copied, so
  // that an interrupted backup leaves a record of the files it finished (pgBackRest's manifest-save-threshold).
  std::uint64_t manifestSaveThreshold = std::uint64_t{1} << 30;
};

struct BackupCopyResult {
  bool vanished = false;    // the file was gone when it was opened: drop it from the manifest
  bool referenced = false;  // delta: same SHA-1 as the prior backup's copy, nothing stored
  RepoWriteResult write;    // what was stored (when neither of the above)
  std::optional<PageCheckResult> pages;  // for files marked checksum-page by the manifest build
};

// The absolute path in the cluster of manifest file `name`: below pg_data's path, a tablespace's location, or the
// destination of a link target. Throws CommandError(Format) when no target holds it.
std::filesystem::path backupSourcePath(const Manifest& manifest, const std::string& name);

// Called with the results of the files finished so far (finished[i] != 0) each time another
// BackupCopyOptions::manifestSaveThreshold bytes were copied: from a copying thread, never two at once.
using CopyCheckpoint =
    std::function<void(const std::vector<BackupCopyResult>& results, const std::vector<char>& finished)>;

// Copies every file of `manifest` whose comparison is not Reference into `labelDir` (repository path of the
// backup directory, whose parent directories of the files must exist). Returns one result per manifest file
// (default results for referenced ones). `progress` (optional) is called on the calling thread about every 100 ms
// with the bytes read so far and the total. Throws the first error of any thread (CommandError FileOpen/FileRead/
// FileWrite naming the file) after every thread stopped.
std::vector<BackupCopyResult> copyBackupFiles(const Manifest& manifest, PosixStorage& repo, const std::string& labelDir,
                                              const std::vector<FileComparison>& comparisons,
                                              const BackupCopyOptions& options,
                                              const std::function<void(std::uint64_t, std::uint64_t)>& progress = {},
                                              const CopyCheckpoint& checkpoint = {});

// Records what was stored for `file`: size, checksum (absent for size 0), repo-size (only when it differs from
// size) and rck. On an encrypted mount the stored bytes are the mount's ciphertext: repo-size is its size, and
// rck, which pgbr cannot know, is left out (restore and verify do not read it).
void setStoredFile(ManifestFile& file, const RepoWriteResult& written, const BackupCopyOptions& options);

// Writes `results` into `manifest`: vanished files are removed (reported through `dropped` with their source
// path), delta-matched ones reference `prior`'s copy, copied ones get setStoredFile() and, when their pages were
// checked, checksum-page (and checksum-page-error). Returns the number of files copied.
std::size_t applyCopyResults(Manifest& manifest, const std::vector<FileComparison>& comparisons,
                             const std::vector<BackupCopyResult>& results, const Manifest* prior,
                             const BackupCopyOptions& options,
                             const std::function<void(const std::string&)>& dropped = {});

// For a checkpoint: records the results of the finished files (as applyCopyResults does) and leaves every other
// entry as it is; vanished files stay (the final manifest drops them).
void applyFinishedResults(Manifest& manifest, const std::vector<FileComparison>& comparisons,
                          const std::vector<BackupCopyResult>& results, const std::vector<char>& finished,
                          const Manifest* prior, const BackupCopyOptions& options);

}  // namespace pgbr::backup
