// expire (pgBackRest 2.45 semantics, FORMAT.md §9): apply the retention options to one stanza — expire full,
// differential or time-based sets (a backup always goes with every backup that depends on it), or one set named
// by --set; save backup.info (main, then copy); remove backup directories that are no longer in backup.info; remove
// the WAL that no remaining backup needs (each retained backup keeps the WAL that makes it consistent, the oldest
// backup within archive retention keeps everything after its start) and archive ids that no backup uses.
// Works on plaintext storage: an encrypted repository is a pgbrfs mount that encrypts on write.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/backup_label.h"
#include "backup/command_log.h"
#include "backup/posix_storage.h"

namespace pgbr::backup {

enum class RetentionFullType { Count, Time };

// The repo1-retention-* options and --set, as pgBackRest names them. Unset optionals mean "option not set".
struct ExpireOptions {
  std::optional<unsigned> retentionFull;                  // repo1-retention-full (count, or days with Time)
  RetentionFullType retentionFullType = RetentionFullType::Count;  // repo1-retention-full-type: count or time
  std::optional<unsigned> retentionDiff;                  // repo1-retention-diff
  std::optional<unsigned> retentionArchive;               // repo1-retention-archive
  BackupType retentionArchiveType = BackupType::Full;     // repo1-retention-archive-type
  std::optional<unsigned> retentionHistory;               // repo1-retention-history (days), unset = keep forever
  std::optional<std::string> set;                         // --set: expire this backup (and its dependents) only
  bool dryRun = false;                                    // --dry-run: log what would be removed, change nothing
  std::time_t now = 0;                                    // "now" for time-based retention; 0 = the clock
  std::string repoName = "repo1";                         // prefix of the log lines ("repo1: expire ...")
  std::string repoPath;                                   // shown in "remove archive path" lines
};

// What expire did (or, with dryRun, would do). Labels and names sorted ascending.
struct ExpireResult {
  std::vector<std::string> expiredBackups;      // labels removed from backup.info
  std::vector<std::string> removedBackupPaths;  // backup/<stanza>/<label> directories removed (incl. stray ones)
  std::vector<std::string> removedArchiveIds;   // archive/<stanza>/<archive id> directories removed entirely
  std::uint64_t removedWalFiles = 0;            // WAL files and whole <first16> directories removed
  std::vector<std::string> removedHistoryFiles;  // timeline .history files removed ("15-1/00000001.history")
  std::vector<std::string> removedHistoryManifests;  // backup.history/<YYYY>/<label>.manifest.gz removed
  bool adhocBackupMissing = false;              // --set named a backup that is not in backup.info (a warning)
};

// Expires backups and WAL of `stanza` on `repo`, logging pgBackRest's lines at info/detail/warn on `log`.
// Single-threaded; must not run concurrently with a backup of the same stanza (pgBackRest holds the backup
// lock; pgbr does not lock: the caller runs it after its backup, or alone).
// Throws CommandError: OptionInvalidValue for a zero retention or a malformed --set label; BackupSetInvalid
// ("full backup X cannot be expired until another full backup has been created on this repo") for --set of the
// only/latest full; Format when archive.info and backup.info history lists do not match; load errors of the info
// files; StorageError when a removal fails (what was removed before stays removed, backup.info already saved).
ExpireResult expireStanza(PosixStorage& repo, std::string_view stanza, const ExpireOptions& options, CommandLog& log);

}  // namespace pgbr::backup
