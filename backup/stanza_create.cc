#include "backup/stanza_create.h"

#include "backup/info_file_loader.h"
#include "backup/pgbackrest_error.h"
#include "backup/stanza_info.h"
#include "crypto/sub_pass.h"

namespace pgbr::backup {

namespace {

bool exists(Storage& storage, const std::string& path) { return storage.info(path).has_value(); }

bool directoryHasEntries(Storage& storage, const std::string& path) {
  const std::optional<std::vector<std::string>> names = storage.list(path);
  return names && !names->empty();
}

// Renders once and writes the same bytes to main, then copy (FORMAT.md §4.4).
void save(Storage& storage, const std::string& path, std::string text) {
  for (const std::string& file : infoFileWriteOrder(path)) storage.put(file, asBytes(text));
  crypto::Secret::wipe(text);  // holds the sub-pass in clear
}

// Restores whichever of main and copy is missing from the other; returns true when it wrote one.
bool restoreTwin(Storage& storage, const std::string& path) {
  const std::string copy = path + kInfoCopyExtension;
  const bool mainExists = exists(storage, path), copyExists = exists(storage, copy);
  if (mainExists && copyExists) return false;
  std::optional<Bytes> data = storage.get(mainExists ? path : copy);
  if (!data) return false;
  storage.put(mainExists ? copy : path, *data);
  crypto::Secret::wipe(data->data(), data->size());
  return true;
}

}  // namespace

ArchiveInfo newArchiveInfo(const PgControl& cluster, bool encrypted) {
  ArchiveInfo info;
  info.dbId = 1;
  info.history.push_back(ArchiveHistoryEntry{1, cluster.systemId, cluster.version, {}});
  if (encrypted) info.header.cipherPass = crypto::generateSubPass();
  return info;
}

BackupInfo newBackupInfo(const PgControl& cluster, bool encrypted) {
  BackupInfo info;
  info.dbId = 1;
  info.history.push_back(
      BackupHistoryEntry{1, cluster.catalogVersion, cluster.controlVersion, cluster.systemId, cluster.version, {}});
  if (encrypted) info.header.cipherPass = crypto::generateSubPass();
  return info;
}

StanzaCreateResult stanzaCreate(Storage& storage, std::string_view stanza, const PgControl& cluster, bool encrypted) {
  const std::string archivePath = archiveInfoPath(stanza), backupPath = backupInfoPath(stanza);
  const bool archiveExists = exists(storage, archivePath) || exists(storage, archivePath + kInfoCopyExtension);
  const bool backupExists = exists(storage, backupPath) || exists(storage, backupPath + kInfoCopyExtension);

  if (!archiveExists && !backupExists) {
    const bool archiveBusy = directoryHasEntries(storage, stanzaArchivePath(stanza));
    const bool backupBusy = directoryHasEntries(storage, stanzaBackupPath(stanza));
    if (archiveBusy || backupBusy)
      throw CommandError(ErrorCode::PathNotEmpty,
                         std::string(backupBusy ? "backup directory " : "") + (backupBusy && archiveBusy ? "and/or " : "") +
                             (archiveBusy ? "archive directory " : "") + "not empty",
                         "the stanza holds files but no info files: remove them, or restore archive.info and "
                         "backup.info from a copy");
    save(storage, archivePath, newArchiveInfo(cluster, encrypted).render());
    save(storage, backupPath, newBackupInfo(cluster, encrypted).render());
    return {StanzaCreateResult::Outcome::Created};
  }
  if (archiveExists != backupExists)
    throw CommandError(ErrorCode::FileMissing,
                       std::string(archiveExists ? "archive.info exists but backup.info is missing"
                                                 : "backup.info exists but archive.info is missing") +
                           " on repo1",
                       "this may be a symptom of repository corruption!");

  const InfoFileReader read = plainInfoReader(storage);
  checkStanzaMatchesCluster(loadArchiveInfo(archivePath, read), loadBackupInfo(backupPath, read), cluster);
  const bool archiveRepaired = restoreTwin(storage, archivePath);
  const bool backupRepaired = restoreTwin(storage, backupPath);
  return {archiveRepaired || backupRepaired ? StanzaCreateResult::Outcome::Repaired
                                            : StanzaCreateResult::Outcome::AlreadyValid};
}

}  // namespace pgbr::backup
