// The text of `pgbackrest info` (2.45) for one repository: per stanza its status and cipher, then the clusters
// ("db (prior)" ones with WAL or backups first, "db (current)" last), each with its WAL range and backups.
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "backup/info_report.h"

namespace pgbr::backup {
namespace {

constexpr const char* kBackupIndent = "            ";

// A cluster and what belongs to it; clusters with the same system id and version are one group.
struct DbGroup {
  std::uint64_t systemId = 0;
  std::string version;
  bool current = false;
  std::optional<std::string> archiveMin;
  std::optional<std::string> archiveMax;
  std::vector<const InfoReportBackup*> backups;
};

std::string localTime(std::int64_t seconds) {
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm broken{};
  if (localtime_r(&time, &broken) == nullptr)
    throw std::runtime_error("unable to convert backup timestamp " + std::to_string(seconds) + " to local time");
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &broken);
  return text;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string result;
  for (const std::string& item : items) result += (result.empty() ? "" : separator) + item;
  return result;
}

void renderDetail(const InfoReportSetDetail& detail, const BackupInfoEntry& entry, std::string& out) {
  out += std::string(kBackupIndent) + "database list:";
  if (detail.databases.empty()) out += " none";
  for (std::size_t index = 0; index < detail.databases.size(); ++index)
    out += (index == 0 ? " " : ", ") + detail.databases[index].name + " (" +
           std::to_string(detail.databases[index].oid) + ")";
  out += "\n";
  if (!detail.links.empty()) {
    out += std::string(kBackupIndent) + "symlinks:\n";
    for (const auto& link : detail.links) out += "                " + link.name + " => " + link.destination + "\n";
  }
  if (!detail.tablespaces.empty()) {
    out += std::string(kBackupIndent) + "tablespaces:\n";
    for (const auto& tablespace : detail.tablespaces)
      out += "                " + tablespace.name + " (" + std::to_string(tablespace.oid) + ") => " +
             tablespace.destination + "\n";
  }
  if (!detail.checksumPageErrors.empty())
    out += std::string(kBackupIndent) + "page checksum error: " + join(detail.checksumPageErrors, ", ") + "\n";
  if (entry.annotation) {
    out += std::string(kBackupIndent) + "annotation(s)\n";
    for (const auto& [key, value] : *entry.annotation)
      out += "                " + key + ": " + (value.isString() ? value.asString() : value.render()) + "\n";
  }
}

void renderBackup(const InfoReportBackup& backup, unsigned repoKey, std::string& out) {
  const BackupInfoEntry& entry = backup.entry;
  const std::string indent = kBackupIndent;
  out += "\n        " + std::string(backupTypeName(entry.type)) + " backup: " + entry.label + "\n";
  out += indent + "timestamp start/stop: " + localTime(entry.timestampStart) + " / " + localTime(entry.timestampStop) +
         "\n";
  out += indent + "wal start/stop: " +
         (entry.archiveStart && entry.archiveStop ? *entry.archiveStart + " / " + *entry.archiveStop : "n/a") + "\n";
  if (backup.detail && entry.lsnStart && entry.lsnStop)
    out += indent + "lsn start/stop: " + *entry.lsnStart + " / " + *entry.lsnStop + "\n";
  out += indent + "database size: " + formatInfoSize(entry.size) +
         ", database backup size: " + formatInfoSize(entry.sizeDelta) + "\n";
  out += indent + "repo" + std::to_string(repoKey) + ": backup set size: " + formatInfoSize(entry.repoSize) +
         ", backup size: " + formatInfoSize(entry.repoSizeDelta) + "\n";
  if (entry.reference) out += indent + "backup reference list: " + join(*entry.reference, ", ") + "\n";
  if (entry.error == true) out += indent + "error(s) detected during backup\n";
  if (backup.detail) renderDetail(*backup.detail, entry, out);
}

void renderGroup(const DbGroup& group, unsigned repoKey, std::string& out) {
  out += "\n        wal archive min/max (" + group.version + "): ";
  out += group.archiveMin ? *group.archiveMin + "/" + group.archiveMax.value_or("") + "\n" : "none present\n";
  for (const InfoReportBackup* backup : group.backups) renderBackup(*backup, repoKey, out);
}

void renderDbs(const InfoReportStanza& stanza, const std::optional<std::string>& set, std::string& out) {
  std::vector<DbGroup> groups;
  auto groupOf = [&groups](const InfoReportDb& db) -> DbGroup& {
    for (DbGroup& group : groups)
      if (group.systemId == db.systemId && group.version == db.version) return group;
    throw std::logic_error("no group for cluster " + std::to_string(db.id));
  };
  for (const InfoReportDb& db : stanza.db) {
    bool known = false;
    for (const DbGroup& group : groups) known = known || (group.systemId == db.systemId && group.version == db.version);
    if (!known)
      groups.push_back(DbGroup{db.systemId, db.version,
                               stanza.current && stanza.current->systemId == db.systemId &&
                                   stanza.current->version == db.version,
                               std::nullopt, std::nullopt, {}});
    DbGroup& group = groupOf(db);
    for (const InfoReportArchive& archive : stanza.archive) {
      if (archive.dbId != db.id || !archive.min) continue;
      if (!group.archiveMin || *group.archiveMin > *archive.min) group.archiveMin = archive.min;
      if (!group.archiveMax || *group.archiveMax < archive.max.value_or("")) group.archiveMax = archive.max;
    }
  }

  std::size_t first = 0, last = groups.size();
  for (const InfoReportBackup& backup : stanza.backups) {
    if (set && backup.entry.label != *set) continue;
    for (const InfoReportDb& db : stanza.db) {
      if (db.id != backup.entry.dbId) continue;
      DbGroup& group = groupOf(db);
      group.backups.push_back(&backup);
      if (set) {
        first = static_cast<std::size_t>(&group - groups.data());
        last = first + 1;
      }
      break;
    }
  }

  std::string current;
  for (std::size_t index = first; index < last; ++index) {
    const DbGroup& group = groups[index];
    if (group.current) {
      current = "\n    db (current)";
      renderGroup(group, stanza.repoKey, current);
    } else if (group.archiveMin || !group.backups.empty()) {
      out += "\n    db (prior)";
      renderGroup(group, stanza.repoKey, out);
    }
  }
  out += current;
}

void renderStatus(const InfoReportStanza& stanza, std::string& out) {
  out += "    status: ";
  const std::string lock = stanza.backupLockHeld ? "backup/expire running" : "";
  if (stanza.status == InfoStatus::Ok) {
    out += lock.empty() ? "ok\n" : "ok (" + lock + ")\n";
  } else if (stanza.status == InfoStatus::Other) {
    out += "error (other)" + (lock.empty() ? "" : " (" + lock + ")") + "\n";
    std::string indented = kBackupIndent;
    for (char c : stanza.error) indented += c == '\n' ? std::string("\n") + kBackupIndent : std::string(1, c);
    out += indented + "\n";
  } else {
    out += std::string("error (") + infoStatusMessage(stanza.status) + (lock.empty() ? "" : ", " + lock) + ")\n";
  }
  if (stanza.status != InfoStatus::MissingStanzaPath) out += "    cipher: " + stanza.cipher + "\n";
}

}  // namespace

std::string formatInfoSize(std::uint64_t bytes) {
  constexpr std::uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (bytes < kKiB) return std::to_string(bytes) + "B";
  const std::uint64_t unit = bytes < kMiB ? kKiB : bytes < kGiB ? kMiB : kGiB;
  const char* suffix = bytes < kMiB ? "KB" : bytes < kGiB ? "MB" : "GB";
  // One decimal when the truncated tenths digit is not 0 (then printf rounds), else whole units (truncated).
  const double tenth = unit == kKiB ? 102.4 : unit == kMiB ? 1024 * 102.4 : 1024 * 1024 * 102.4;
  const auto tenths = static_cast<std::uint64_t>(static_cast<double>(bytes) / tenth);
  if (tenths % 10 == 0) return std::to_string(bytes / unit) + suffix;
  char text[64];
  std::snprintf(text, sizeof(text), "%.1f%s", static_cast<double>(bytes) / static_cast<double>(unit), suffix);
  return text;
}

std::string renderInfoReportText(const InfoReport& report) {
  if (report.stanzas.empty()) return "No stanzas exist in the repository.\n";
  std::string out;
  for (std::size_t index = 0; index < report.stanzas.size(); ++index) {
    const InfoReportStanza& stanza = report.stanzas[index];
    if (index > 0) out += "\n";
    out += "stanza: " + stanza.name + "\n";
    renderStatus(stanza, out);
    if (!stanza.db.empty()) renderDbs(stanza, report.set, out);
  }
  return out;
}

}  // namespace pgbr::backup
