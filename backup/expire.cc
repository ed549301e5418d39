#include "backup/expire.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "backup/archive_info.h"
#include "backup/backup_info.h"
#include "backup/format_error.h"
#include "backup/info_file_loader.h"
#include "backup/manifest.h"
#include "backup/pgbackrest_error.h"
#include "backup/wal_name.h"

namespace pgbr::backup {
namespace {

bool isUpperHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
}

// <first16>/ directories of an archive id.
bool isWalDirectoryName(std::string_view name) { return name.size() == 16 && isUpperHex(name); }
// Files expire considers inside <first16>/: anything that starts with 24 hex digits (segments, partials, .backup).
bool isWalFileName(std::string_view name) { return name.size() >= 24 && isUpperHex(name.substr(0, 24)); }
// Timeline history files: TTTTTTTT.history.
bool isTimelineHistoryName(std::string_view name) {
  return name.size() == 16 && isUpperHex(name.substr(0, 8)) && name.substr(8) == ".history";
}

std::string joinLabels(const std::vector<std::string>& labels) {
  std::string text;
  for (const std::string& label : labels) text += (text.empty() ? "" : ", ") + label;
  return text;
}

// The repository and the stanza's info files, with pgBackRest's wording in the log.
class ExpireRun {
 public:
  ExpireRun(PosixStorage& repo, std::string_view stanza, const ExpireOptions& options, CommandLog& log)
      : repo_(repo),
        options_(options),
        log_(log),
        backupPath_("backup/" + std::string(stanza)),
        archivePath_("archive/" + std::string(stanza)) {}

  ExpireResult run();

 private:
  std::string display(const std::string& relative) const {
    return options_.repoPath.empty() ? relative : options_.repoPath + "/" + relative;
  }
  InfoFileReader reader() const {
    return [this](const std::string& path) -> std::optional<std::string> {
      const std::string relative = options_.repoPath.empty() ? path : path.substr(options_.repoPath.size() + 1);
      std::optional<Bytes> bytes = repo_.get(relative);
      if (!bytes) return std::nullopt;
      return std::string(bytes->begin(), bytes->end());
    };
  }
  void info(const std::string& message) { log_.info(dryRunPrefix() + options_.repoName + ": " + message); }
  void detail(const std::string& message) { log_.detail(dryRunPrefix() + options_.repoName + ": " + message); }
  std::string dryRunPrefix() const { return options_.dryRun ? "[DRY-RUN] " : ""; }

  void reconcileWithDisk();
  std::vector<std::string> labels(bool full, bool diff, bool incr) const;
  std::vector<std::string> expireBackup(const std::string& label);
  void expireAdhoc(const std::string& label);
  void expireFull();
  void expireDiff();
  void expireTimeBased();
  std::optional<unsigned> archiveRetention();
  void removeExpiredBackups();
  void removeExpiredArchive();
  void removeArchiveOfId(const ArchiveInfo& archiveInfo, const ArchiveHistoryEntry& archiveEntry,
                         const std::vector<std::string>& retentionList,
                         const std::vector<std::string>& archiveRetentionList);
  void removeExpiredHistory();

  PosixStorage& repo_;
  const ExpireOptions& options_;
  CommandLog& log_;
  std::string backupPath_;
  std::string archivePath_;
  BackupInfo backupInfo_;
  std::optional<unsigned> timeBasedArchiveRetention_;
  std::set<std::string> unlisted_;  // complete backups on disk missing from backup.info: never removed
  ExpireResult result_;
};

// Labels of backup.info of the given types, ascending (backup.info order).
std::vector<std::string> ExpireRun::labels(bool full, bool diff, bool incr) const {
  std::vector<std::string> result;
  for (const BackupInfoEntry& entry : backupInfo_.backups)
    if ((entry.type == BackupType::Full && full) || (entry.type == BackupType::Diff && diff) ||
        (entry.type == BackupType::Incr && incr))
      result.push_back(entry.label);
  std::sort(result.begin(), result.end());
  return result;
}

// pgBackRest loads backup.info "reconstructed": a backup whose manifest is gone is dropped from it (the backup
// directory is then removed as expired). A directory with a manifest that backup.info does not list is left in
// place and reported: pgBackRest would add it to backup.info, pgbr does not rebuild entries (see the man page).
void ExpireRun::reconcileWithDisk() {
  for (const std::string& name : repo_.list(backupPath_).value_or(std::vector<std::string>{})) {
    if (!BackupLabel::isValid(name) || backupInfo_.findBackup(name)) continue;
    if (repo_.info(backupPath_ + "/" + name + "/backup.manifest")) {
      unlisted_.insert(name);
      log_.warn("backup '" + name +
                "' has a manifest but is not in backup.info: left in place\n"
                "HINT: run pgbackrest expire or pgbackrest info on the backing repository to add it to backup.info.");
    }
  }
  std::vector<BackupInfoEntry> kept;
  for (BackupInfoEntry& entry : backupInfo_.backups) {
    if (repo_.info(backupPath_ + "/" + entry.label + "/backup.manifest")) {
      kept.push_back(std::move(entry));
    } else {
      log_.warn("backup '" + entry.label + "' missing manifest removed from backup.info");
    }
  }
  backupInfo_.backups = std::move(kept);
}

// The backup and every backup whose prior chain leads to it, removed from backup.info (manifests deleted first,
// newest first, so that an interrupted expire leaves usable backups). Returns them ascending.
std::vector<std::string> ExpireRun::expireBackup(const std::string& label) {
  std::set<std::string> dependents{label};
  std::vector<std::string> all = labels(true, true, true);
  for (const std::string& candidate : all) {
    const BackupInfoEntry* entry = backupInfo_.findBackup(candidate);
    if (entry->prior && dependents.contains(*entry->prior)) dependents.insert(candidate);
  }
  std::vector<std::string> removed(dependents.begin(), dependents.end());
  for (auto it = removed.rbegin(); it != removed.rend(); ++it) {
    if (!options_.dryRun) {
      repo_.remove(backupPath_ + "/" + *it + "/backup.manifest");
      repo_.remove(backupPath_ + "/" + *it + "/backup.manifest" + kInfoCopyExtension);
    }
    std::erase_if(backupInfo_.backups, [&](const BackupInfoEntry& entry) { return entry.label == *it; });
  }
  result_.expiredBackups.insert(result_.expiredBackups.end(), removed.begin(), removed.end());
  return removed;
}

void ExpireRun::expireAdhoc(const std::string& label) {
  const std::vector<std::string> fulls = labels(true, false, false);
  if (!fulls.empty() && fulls.back() == label) {
    if (fulls.size() == 1 ||
        backupInfo_.findBackup(label)->dbId != backupInfo_.findBackup(fulls[fulls.size() - 2])->dbId)
      throw CommandError(
          ErrorCode::BackupSetInvalid,
          "full backup " + label + " cannot be expired until another full backup has been created on this repo",
          "take a new full backup first, or expire an older backup");
  }
  const std::string latest = backupInfo_.backups.back().label;
  const std::vector<std::string> removed = expireBackup(label);
  if (!backupInfo_.findBackup(latest)) {
    log_.warn(options_.repoName + ": expiring latest backup " + latest +
              " - the ability to perform point-in-time-recovery (PITR) may be affected\n"
              "HINT: non-default settings for '" +
              options_.repoName + "-retention-archive'/'" + options_.repoName +
              "-retention-archive-type' (even in prior expires) can cause gaps in the WAL.");
    if (!options_.dryRun && !backupInfo_.backups.empty()) {
      const std::string link = backupPath_ + "/latest";
      repo_.remove(link);
      if (::symlinkat(backupInfo_.backups.back().label.c_str(), repo_.rootFd(), link.c_str()) != 0)
        log_.warn("unable to update '" + display(link) + "': the link is informational only");
    }
  }
  info("expire adhoc backup " + std::string(removed.size() > 1 ? "set " : "") + joinLabels(removed));
}

void ExpireRun::expireFull() {
  if (!options_.retentionFull) return;
  const std::vector<std::string> fulls = labels(true, false, false);
  if (fulls.size() <= *options_.retentionFull) return;
  for (std::size_t index = 0; index < fulls.size() - *options_.retentionFull; ++index) {
    const std::vector<std::string> removed = expireBackup(fulls[index]);
    info("expire full backup " + std::string(removed.size() > 1 ? "set " : "") + joinLabels(removed));
  }
}

// Fulls count as differentials here: F1 D1 D2 F2 with retention-diff=2 keeps F1, D2, F2 (FORMAT.md §9).
void ExpireRun::expireDiff() {
  if (!options_.retentionDiff) return;
  const std::vector<std::string> candidates = labels(true, true, false);
  if (candidates.size() <= *options_.retentionDiff) return;
  for (std::size_t index = 0; index < candidates.size() - *options_.retentionDiff; ++index) {
    const BackupInfoEntry* entry = backupInfo_.findBackup(candidates[index]);
    if (entry == nullptr || entry->type == BackupType::Full) continue;
    const std::vector<std::string> removed = expireBackup(candidates[index]);
    info("expire diff backup " + std::string(removed.size() > 1 ? "set " : "") + joinLabels(removed));
  }
}

// Keeps the newest full whose stop time is older than the period and everything after it; expires older sets.
void ExpireRun::expireTimeBased() {
  if (!options_.retentionFull) return;
  const std::time_t now = options_.now != 0 ? options_.now : std::time(nullptr);
  const std::int64_t minTimestamp = static_cast<std::int64_t>(now) - std::int64_t{*options_.retentionFull} * 86400;
  const std::vector<std::string> fulls = labels(true, false, false);
  if (fulls.empty()) return;
  std::string keep;
  for (auto it = fulls.rbegin(); it != fulls.rend(); ++it) {
    keep = *it;
    if (backupInfo_.findBackup(*it)->timestampStop < minTimestamp) break;
  }
  unsigned fullsExpired = 0;
  while (!backupInfo_.backups.empty() && backupInfo_.backups.front().label != keep) {
    const std::vector<std::string> removed = expireBackup(backupInfo_.backups.front().label);
    ++fullsExpired;
    info("expire time-based backup " + std::string(removed.size() > 1 ? "set " : "") + joinLabels(removed));
  }
  if (options_.retentionArchiveType == BackupType::Full && !options_.retentionArchive && fullsExpired > 0)
    timeBasedArchiveRetention_ = static_cast<unsigned>(fulls.size()) - fullsExpired;
}

// repo1-retention-archive as pgBackRest's configuration defaults it (FORMAT.md §9).
std::optional<unsigned> ExpireRun::archiveRetention() {
  if (options_.retentionArchive) return options_.retentionArchive;
  switch (options_.retentionArchiveType) {
    case BackupType::Full:
      if (options_.retentionFullType == RetentionFullType::Count) return options_.retentionFull;
      return timeBasedArchiveRetention_;
    case BackupType::Diff:
      return options_.retentionDiff;
    case BackupType::Incr:
      return std::nullopt;
  }
  return std::nullopt;
}

void ExpireRun::removeExpiredBackups() {
  std::vector<std::string> onDisk;
  for (const std::string& name : repo_.list(backupPath_).value_or(std::vector<std::string>{}))
    if (BackupLabel::isValid(name)) onDisk.push_back(name);
  std::sort(onDisk.rbegin(), onDisk.rend());
  std::size_t start = 0;
  // A resumable backup (manifest copy only) newer than everything is kept unless it belonged to the adhoc set.
  if (options_.set && !onDisk.empty()) {
    const std::string manifest = backupPath_ + "/" + onDisk.front() + "/backup.manifest";
    if (!repo_.info(manifest) && repo_.info(manifest + kInfoCopyExtension)) {
      if (onDisk.front().substr(0, 16) != options_.set->substr(0, 16)) {
        start = 1;
      } else {
        const Manifest resume = loadManifest(display(manifest), reader());
        if (resume.backup.prior && backupInfo_.findBackup(*resume.backup.prior)) start = 1;
      }
    }
  }
  for (std::size_t index = start; index < onDisk.size(); ++index) {
    if (backupInfo_.findBackup(onDisk[index]) || unlisted_.contains(onDisk[index])) continue;
    info("remove expired backup " + onDisk[index]);
    if (!options_.dryRun) repo_.removePath(backupPath_ + "/" + onDisk[index]);
    result_.removedBackupPaths.push_back(onDisk[index]);
  }
  std::sort(result_.removedBackupPaths.begin(), result_.removedBackupPaths.end());
}

void ExpireRun::removeExpiredArchive() {
  const std::optional<unsigned> retention = archiveRetention();
  if (!retention) {
    if (options_.retentionFullType == RetentionFullType::Time)
      log_.info(options_.repoName + ": time-based archive retention not met - archive logs will not be expired");
    else
      log_.info("option '" + options_.repoName + "-retention-archive' is not set - archive logs will not be expired");
    return;
  }
  std::vector<std::string> retentionList = labels(true, options_.retentionArchiveType != BackupType::Full,
                                                  options_.retentionArchiveType == BackupType::Incr);
  std::reverse(retentionList.begin(), retentionList.end());  // newest first
  if (retentionList.empty() || *retention > retentionList.size()) return;

  const ArchiveInfo archiveInfo = loadArchiveInfo(display(archivePath_ + "/archive.info"), reader());
  // Both history lists, newest first, must agree entry by entry.
  for (std::size_t index = 0; index < archiveInfo.history.size(); ++index) {
    const ArchiveHistoryEntry& archiveEntry = archiveInfo.history[archiveInfo.history.size() - 1 - index];
    const BackupHistoryEntry* backupEntry =
        index < backupInfo_.history.size() ? &backupInfo_.history[backupInfo_.history.size() - 1 - index] : nullptr;
    if (backupEntry == nullptr || archiveEntry.id != backupEntry->id ||
        archiveEntry.systemId != backupEntry->systemId || archiveEntry.version != backupEntry->version)
      throw CommandError(ErrorCode::Format,
                         "archive expiration cannot continue - archive and backup history lists do not match",
                         "compare the [db:history] of '" + display(archivePath_ + "/archive.info") + "' and '" +
                             display(backupPath_ + "/backup.info") + "' (pgbr info, pgbackrest info)");
  }
  const std::vector<std::string> archiveRetentionList(retentionList.begin(), retentionList.begin() + *retention);
  for (const ArchiveHistoryEntry& entry : archiveInfo.history)  // oldest first
    removeArchiveOfId(archiveInfo, entry, retentionList, archiveRetentionList);
}

void ExpireRun::removeArchiveOfId(const ArchiveInfo& archiveInfo, const ArchiveHistoryEntry& archiveEntry,
                                  const std::vector<std::string>& retentionList,
                                  const std::vector<std::string>& archiveRetentionList) {
  const std::string archiveId = archiveEntry.archiveId();
  const std::string idPath = archivePath_ + "/" + archiveId;
  const std::optional<StorageInfo> idInfo = repo_.info(idPath);
  if (!idInfo || idInfo->type != StorageInfo::Type::Path) return;

  // Backups of this archive id among those counted for retention, oldest first.
  std::vector<std::string> local;
  for (auto it = retentionList.rbegin(); it != retentionList.rend(); ++it)
    if (backupInfo_.findBackup(*it)->dbId == archiveEntry.id) local.push_back(*it);
  if (local.empty()) {
    if (archiveInfo.dbId != archiveEntry.id) {
      info("remove archive path " + display(idPath));
      if (!options_.dryRun) repo_.removePath(idPath);
      result_.removedArchiveIds.push_back(archiveId);
    }
    return;
  }
  std::vector<std::string> localArchive;
  for (auto it = archiveRetentionList.rbegin(); it != archiveRetentionList.rend(); ++it)
    if (std::find(local.begin(), local.end(), *it) != local.end()) localArchive.push_back(*it);
  if (localArchive.empty()) localArchive.push_back(local.back());
  const BackupInfoEntry& retentionBackup = *backupInfo_.findBackup(localArchive.front());
  // Backups without WAL (offline) cannot anchor archive retention.
  if (!retentionBackup.archiveStart) return;

  struct Range {
    std::string start;
    std::optional<std::string> stop;  // none: everything from start on
  };
  std::vector<Range> ranges;
  std::string expireMax;
  for (const BackupInfoEntry& backup : backupInfo_.backups) {
    if (backup.dbId != archiveEntry.id || backup.label > retentionBackup.label || !backup.archiveStart) continue;
    Range range{*backup.archiveStart, std::nullopt};
    if (backup.label != retentionBackup.label)
      range.stop = backup.archiveStop.value_or(*backup.archiveStart);
    else
      expireMax = range.start;
    detail(archiveId + " archive retention on backup " + backup.label + ", start = " + range.start +
           (range.stop ? ", stop = " + *range.stop : ""));
    ranges.push_back(std::move(range));
  }

  std::uint64_t total = 0;
  std::optional<std::string> firstRemoved;
  std::string lastRemoved;
  auto flush = [&] {
    if (firstRemoved) info(archiveId + " remove archive, start = " + *firstRemoved + ", stop = " + lastRemoved);
    firstRemoved.reset();
  };
  std::vector<std::string> walDirectories;
  for (const std::string& name : repo_.list(idPath).value_or(std::vector<std::string>{}))
    if (isWalDirectoryName(name)) walDirectories.push_back(name);
  std::sort(walDirectories.begin(), walDirectories.end());
  for (const std::string& directory : walDirectories) {
    const bool keepDirectory = std::any_of(ranges.begin(), ranges.end(), [&](const Range& range) {
      return directory >= range.start.substr(0, 16) && (!range.stop || directory <= range.stop->substr(0, 16));
    });
    if (!keepDirectory) {
      if (!options_.dryRun) repo_.removePath(idPath + "/" + directory);
      ++total;
      firstRemoved = directory;
      lastRemoved = directory;
      continue;
    }
    if (directory > expireMax.substr(0, 16)) continue;
    std::vector<std::string> files;
    for (const std::string& name : repo_.list(idPath + "/" + directory).value_or(std::vector<std::string>{}))
      if (isWalFileName(name)) files.push_back(name);
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      const std::string segment = file.substr(0, 24);
      const bool keep = std::any_of(ranges.begin(), ranges.end(), [&](const Range& range) {
        return segment >= range.start && (!range.stop || segment <= *range.stop);
      });
      if (keep) {
        flush();
        continue;
      }
      if (!options_.dryRun) repo_.remove(idPath + "/" + directory + "/" + file);
      ++total;
      lastRemoved = segment;
      if (!firstRemoved) firstRemoved = segment;
    }
  }
  if (total == 0)
    detail(archiveId + " no archive to remove");
  else
    flush();
  result_.removedWalFiles += total;

  const std::string startTimeline = retentionBackup.archiveStart->substr(0, 8);
  std::vector<std::string> histories;
  for (const std::string& name : repo_.list(idPath).value_or(std::vector<std::string>{}))
    if (isTimelineHistoryName(name)) histories.push_back(name);
  std::sort(histories.begin(), histories.end());
  for (const std::string& history : histories) {
    if (history.substr(0, 8) >= startTimeline) continue;
    if (!options_.dryRun) repo_.remove(idPath + "/" + history);
    detail(archiveId + " remove history file " + history);
    result_.removedHistoryFiles.push_back(archiveId + "/" + history);
  }
}

// repo1-retention-history: backup.history manifests of expired backups older than the period.
void ExpireRun::removeExpiredHistory() {
  if (!options_.retentionHistory) return;
  const std::time_t now = options_.now != 0 ? options_.now : std::time(nullptr);
  const std::time_t limit = now - static_cast<std::time_t>(*options_.retentionHistory) * 86400;
  const std::tm local = BackupLabel::localTime(limit);
  char day[16];
  std::strftime(day, sizeof(day), "%Y%m%d", &local);
  const std::string historyPath = backupPath_ + "/backup.history";
  std::vector<std::string> years = repo_.list(historyPath).value_or(std::vector<std::string>{});
  std::sort(years.rbegin(), years.rend());
  for (const std::string& year : years) {
    if (year.size() != 4 || year[0] != '2' || !isUpperHex(year)) continue;
    std::vector<std::string> files = repo_.list(historyPath + "/" + year).value_or(std::vector<std::string>{});
    std::sort(files.rbegin(), files.rend());
    for (const std::string& file : files) {
      const std::size_t dot = file.find('.');
      const std::string label = file.substr(0, dot);
      if (dot == std::string::npos || file.substr(dot) != ".manifest.gz" || !BackupLabel::isValid(label)) continue;
      if (backupInfo_.findBackup(label) || label.substr(0, 8) >= day) continue;
      info("remove expired history backup manifest " + file);
      if (!options_.dryRun) repo_.remove(historyPath + "/" + year + "/" + file);
      result_.removedHistoryManifests.push_back(year + "/" + file);
    }
  }
}

ExpireResult ExpireRun::run() {
  for (const std::optional<unsigned>* value :
       {&options_.retentionFull, &options_.retentionDiff, &options_.retentionArchive})
    if (*value && **value == 0)
      throw CommandError(ErrorCode::OptionInvalidValue, "retention options must be at least 1",
                         "unset the option to keep backups (or WAL) indefinitely");
  if (options_.set && !BackupLabel::isValid(*options_.set))
    throw CommandError(ErrorCode::OptionInvalidValue, "'" + *options_.set + "' is not a valid backup label format",
                       "labels look like 20261128-101112F, 20261128-101112F_20261128-111213D or ..._20261128-111213I");

  backupInfo_ = loadBackupInfo(display(backupPath_ + "/backup.info"), reader());
  reconcileWithDisk();

  if (options_.set) {
    if (backupInfo_.findBackup(*options_.set)) {
      expireAdhoc(*options_.set);
    } else {
      result_.adhocBackupMissing = true;
      log_.warn("backup " + *options_.set +
                " does not exist\nHINT: run the info command and confirm the backup is listed");
    }
  } else {
    if (options_.retentionFullType == RetentionFullType::Time)
      expireTimeBased();
    else
      expireFull();
    expireDiff();
  }

  if (!options_.dryRun) {
    const std::string text = backupInfo_.render();
    for (const std::string& file : infoFileWriteOrder(backupPath_ + "/backup.info"))
      repo_.put(file, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }
  removeExpiredBackups();
  removeExpiredArchive();
  removeExpiredHistory();
  std::sort(result_.expiredBackups.begin(), result_.expiredBackups.end());
  return result_;
}

}  // namespace

ExpireResult expireStanza(PosixStorage& repo, std::string_view stanza, const ExpireOptions& options, CommandLog& log) {
  if (options.retentionFullType == RetentionFullType::Count && !options.retentionFull)
    log.warn("option '" + options.repoName + "-retention-full' is not set for '" + options.repoName +
             "-retention-full-type=count', the repository may run out of space\n"
             "HINT: to retain full backups indefinitely (without warning), set option '" +
             options.repoName + "-retention-full' to the maximum.");
  if (!options.retentionArchive && options.retentionArchiveType == BackupType::Diff && !options.retentionDiff)
    log.warn("WAL segments will not be expired: option '" + options.repoName +
             "-retention-archive-type=diff' but neither option '" + options.repoName +
             "-retention-archive' nor option '" + options.repoName + "-retention-diff' is set");
  if (!options.retentionArchive && options.retentionArchiveType == BackupType::Incr)
    log.warn("WAL segments will not be expired: option '" + options.repoName +
             "-retention-archive-type=incr' but option '" + options.repoName + "-retention-archive' is not set");
  return ExpireRun(repo, stanza, options, log).run();
}

}  // namespace pgbr::backup
