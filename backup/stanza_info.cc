#include "backup/stanza_info.h"

#include "backup/format_error.h"
#include "backup/pgbackrest_error.h"

namespace pgbr::backup {

std::string stanzaArchivePath(std::string_view stanza) { return "archive/" + std::string(stanza); }
std::string stanzaBackupPath(std::string_view stanza) { return "backup/" + std::string(stanza); }
std::string archiveInfoPath(std::string_view stanza) { return stanzaArchivePath(stanza) + "/archive.info"; }
std::string backupInfoPath(std::string_view stanza) { return stanzaBackupPath(stanza) + "/backup.info"; }

InfoFileReader plainInfoReader(Storage& storage) {
  return [&storage](const std::string& path) -> std::optional<std::string> {
    std::optional<Bytes> data = storage.get(path);
    if (!data) return std::nullopt;
    return std::string(data->begin(), data->end());
  };
}

ArchiveInfo loadStanzaArchiveInfo(Storage& storage, std::string_view stanza, const std::string& repoPath) {
  try {
    return loadArchiveInfo(archiveInfoPath(stanza), plainInfoReader(storage));
  } catch (const FormatError& e) {
    throw CommandError(ErrorCode::RepoInvalid,
                       "unable to find a valid repository:\nrepo1: [" + std::string(e.kind()) + "] " + e.what() +
                           " (repo1-path '" + repoPath + "')",
                       "archive.info cannot be opened but is required to push/get WAL segments.\n"
                       "is archive_command configured correctly in postgresql.conf?\n"
                       "has a stanza-create been performed?\n"
                       "is the repository encrypted? then repo1-path must be a pgbrfs mount of it");
  }
}

BackupInfo loadStanzaBackupInfo(Storage& storage, std::string_view stanza, const std::string& repoPath) {
  try {
    return loadBackupInfo(backupInfoPath(stanza), plainInfoReader(storage));
  } catch (const FormatError& e) {
    CommandError error = commandErrorFor(std::current_exception());
    throw CommandError(error.code(), std::string(e.what()) + " (repo1-path '" + repoPath + "')",
                       e.hint().empty() ? "has a stanza-create been performed?" : e.hint());
  }
}

void checkArchiveMatchesCluster(const ArchiveInfo& archive, const PgControl& cluster) {
  const ArchiveHistoryEntry& current = archive.current();
  if (current.version != cluster.version || current.systemId != cluster.systemId)
    throw CommandError(ErrorCode::ArchiveMismatch,
                       "PostgreSQL version " + cluster.version + ", system-id " + std::to_string(cluster.systemId) +
                           " do not match repo1 stanza version " + current.version + ", system-id " +
                           std::to_string(current.systemId),
                       "are you archiving to the correct stanza?");
}

void checkStanzaMatchesCluster(const ArchiveInfo& archive, const BackupInfo& backup, const PgControl& cluster) {
  const ArchiveHistoryEntry& archiveDb = archive.current();
  const BackupHistoryEntry& backupDb = backup.current();
  if (archiveDb.version != backupDb.version || archiveDb.systemId != backupDb.systemId)
    throw CommandError(ErrorCode::FileInvalid,
                       "backup info file and archive info file do not match\n"
                       "archive: version = " + archiveDb.version + ", system-id = " +
                           std::to_string(archiveDb.systemId) + "\nbackup : version = " + backupDb.version +
                           ", system-id = " + std::to_string(backupDb.systemId),
                       "this may be a symptom of repository corruption!");
  if (archiveDb.version != cluster.version || archiveDb.systemId != cluster.systemId ||
      backupDb.catalogVersion != cluster.catalogVersion || backupDb.controlVersion != cluster.controlVersion)
    throw CommandError(ErrorCode::FileInvalid,
                       "backup and archive info files exist but do not match the database: stanza has version " +
                           archiveDb.version + ", system-id " + std::to_string(archiveDb.systemId) +
                           ", the cluster version " + cluster.version + ", system-id " +
                           std::to_string(cluster.systemId),
                       "is this the correct stanza?\ndid an error occur during stanza-upgrade?");
}

}  // namespace pgbr::backup
