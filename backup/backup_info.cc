#include "backup/backup_info.h"

#include <algorithm>

#include "backup/format_error.h"

namespace pgbr::backup {
namespace {

constexpr const char* kSectionBackupCurrent = "backup:current";
constexpr const char* kSectionDb = "db";
constexpr const char* kSectionDbHistory = "db:history";
constexpr const char* kKeyDbCatalogVersion = "db-catalog-version";
constexpr const char* kKeyDbControlVersion = "db-control-version";
constexpr const char* kKeyDbId = "db-id";
constexpr const char* kKeyDbSystemId = "db-system-id";
constexpr const char* kKeyDbVersion = "db-version";

BackupInfoEntry readBackup(const std::string& label, JsonValue value) {
  JsonObjectReader fields = JsonObjectReader::fromValue(std::move(value), entryContext(kSectionBackupCurrent, label));
  BackupInfoEntry backup;
  backup.label = label;
  backup.backrestFormat = fields.requireUInt("backrest-format");
  backup.backrestVersion = fields.requireString("backrest-version");
  backup.annotation = fields.optionalObject("backup-annotation");
  backup.archiveStart = fields.optionalString("backup-archive-start");
  backup.archiveStop = fields.optionalString("backup-archive-stop");
  backup.error = fields.optionalBool("backup-error");
  backup.repoSize = fields.requireUInt64("backup-info-repo-size");
  backup.repoSizeDelta = fields.requireUInt64("backup-info-repo-size-delta");
  backup.repoSizeMap = fields.optionalUInt64("backup-info-repo-size-map");
  backup.repoSizeMapDelta = fields.optionalUInt64("backup-info-repo-size-map-delta");
  backup.size = fields.requireUInt64("backup-info-size");
  backup.sizeDelta = fields.requireUInt64("backup-info-size-delta");
  backup.lsnStart = fields.optionalString("backup-lsn-start");
  backup.lsnStop = fields.optionalString("backup-lsn-stop");
  backup.prior = fields.optionalString("backup-prior");
  if (std::optional<JsonValue::Array> references = fields.optionalArray("backup-reference")) {
    backup.reference.emplace();
    for (const JsonValue& reference : *references) {
      if (!reference.isString()) fields.throwInvalid("backup-reference", "expected an array of labels");
      backup.reference->push_back(reference.asString());
    }
  }
  backup.timestampStart = fields.requireInt64("backup-timestamp-start");
  backup.timestampStop = fields.requireInt64("backup-timestamp-stop");
  const std::string type = fields.requireString("backup-type");
  const std::optional<BackupType> parsedType = parseBackupType(type);
  if (!parsedType) fields.throwInvalid("backup-type", "unknown backup type '" + printableForMessage(type) + "'");
  backup.type = *parsedType;
  backup.dbId = fields.requireUInt("db-id");
  backup.optionArchiveCheck = fields.requireBool("option-archive-check");
  backup.optionArchiveCopy = fields.requireBool("option-archive-copy");
  backup.optionBackupStandby = fields.optionalBool("option-backup-standby");
  backup.optionChecksumPage = fields.optionalBool("option-checksum-page");
  backup.optionCompress = fields.requireBool("option-compress");
  backup.optionHardlink = fields.requireBool("option-hardlink");
  backup.optionOnline = fields.requireBool("option-online");
  backup.unknown = fields.takeRest();
  return backup;
}

JsonValue writeBackup(const BackupInfoEntry& backup) {
  JsonValue::Object object;
  object.emplace("backrest-format", backup.backrestFormat);
  object.emplace("backrest-version", backup.backrestVersion);
  putIfSet(object, "backup-annotation", backup.annotation);
  putIfSet(object, "backup-archive-start", backup.archiveStart);
  putIfSet(object, "backup-archive-stop", backup.archiveStop);
  putIfSet(object, "backup-error", backup.error);
  object.emplace("backup-info-repo-size", backup.repoSize);
  object.emplace("backup-info-repo-size-delta", backup.repoSizeDelta);
  putIfSet(object, "backup-info-repo-size-map", backup.repoSizeMap);
  putIfSet(object, "backup-info-repo-size-map-delta", backup.repoSizeMapDelta);
  object.emplace("backup-info-size", backup.size);
  object.emplace("backup-info-size-delta", backup.sizeDelta);
  putIfSet(object, "backup-lsn-start", backup.lsnStart);
  putIfSet(object, "backup-lsn-stop", backup.lsnStop);
  putIfSet(object, "backup-prior", backup.prior);
  if (backup.reference) {
    JsonValue::Array references(backup.reference->begin(), backup.reference->end());
    object.emplace("backup-reference", std::move(references));
  }
  object.emplace("backup-timestamp-start", backup.timestampStart);
  object.emplace("backup-timestamp-stop", backup.timestampStop);
  object.emplace("backup-type", backupTypeName(backup.type));
  object.emplace("db-id", backup.dbId);
  object.emplace("option-archive-check", backup.optionArchiveCheck);
  object.emplace("option-archive-copy", backup.optionArchiveCopy);
  putIfSet(object, "option-backup-standby", backup.optionBackupStandby);
  putIfSet(object, "option-checksum-page", backup.optionChecksumPage);
  object.emplace("option-compress", backup.optionCompress);
  object.emplace("option-hardlink", backup.optionHardlink);
  object.emplace("option-online", backup.optionOnline);
  mergeUnknown(object, backup.unknown);
  return JsonValue(std::move(object));
}

}  // namespace

BackupInfo BackupInfo::parse(std::string_view plaintext, const std::string& path) {
  return fromDocument(IniDocument::parse(plaintext), path);
}

BackupInfo BackupInfo::fromDocument(const IniDocument& document, const std::string& path) {
  InfoReader reader(document, path);
  BackupInfo info;
  info.header = reader.header();

  for (auto& [label, value] : reader.entries(kSectionBackupCurrent))
    info.backups.push_back(readBackup(label, std::move(value)));

  JsonObjectReader db = reader.section(kSectionDb);
  info.dbId = db.requireUInt(kKeyDbId);
  for (const char* derived : {kKeyDbCatalogVersion, kKeyDbControlVersion, kKeyDbSystemId, kKeyDbVersion})
    db.take(derived);  // written from the current history entry
  reader.keepUnknown(kSectionDb, db);

  for (auto& [key, value] : reader.entries(kSectionDbHistory)) {
    JsonObjectReader fields = JsonObjectReader::fromValue(std::move(value), entryContext(kSectionDbHistory, key));
    BackupHistoryEntry entry;
    entry.id = parseHistoryId(key);
    if (info.findHistory(entry.id) != nullptr)
      throw FormatError("duplicate history id " + std::to_string(entry.id) + " in '" + path + "'");
    entry.catalogVersion = fields.requireUInt(kKeyDbCatalogVersion);
    entry.controlVersion = fields.requireUInt(kKeyDbControlVersion);
    entry.systemId = fields.requireUInt64(kKeyDbSystemId);
    entry.version = fields.requireString(kKeyDbVersion);
    entry.unknown = fields.takeRest();
    info.history.push_back(std::move(entry));
  }
  if (info.history.empty()) throw FormatError("history is missing in '" + path + "'");
  if (!info.findHistory(info.dbId))
    throw FormatError("unable to find current id " + std::to_string(info.dbId) + " in history of '" + path + "'");
  info.unknown = reader.unknown();
  return info;
}

const BackupHistoryEntry* BackupInfo::findHistory(unsigned id) const {
  for (const BackupHistoryEntry& entry : history)
    if (entry.id == id) return &entry;
  return nullptr;
}

const BackupHistoryEntry& BackupInfo::current() const {
  const BackupHistoryEntry* entry = findHistory(dbId);
  if (entry == nullptr) throw FormatError("unable to find current id " + std::to_string(dbId) + " in history");
  return *entry;
}

const BackupInfoEntry* BackupInfo::findBackup(std::string_view label) const {
  for (const BackupInfoEntry& backup : backups)
    if (backup.label == label) return &backup;
  return nullptr;
}

IniDocument BackupInfo::toDocument() const {
  const BackupHistoryEntry& currentEntry = current();
  IniDocument document;
  writeInfoHeader(document, header);

  std::vector<const BackupInfoEntry*> sorted;
  for (const BackupInfoEntry& backup : backups) sorted.push_back(&backup);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const BackupInfoEntry* a, const BackupInfoEntry* b) { return a->label < b->label; });
  for (const BackupInfoEntry* backup : sorted)
    document.add(kSectionBackupCurrent, backup->label, writeBackup(*backup).render());

  document.add(kSectionDb, kKeyDbCatalogVersion, JsonValue(currentEntry.catalogVersion).render());
  document.add(kSectionDb, kKeyDbControlVersion, JsonValue(currentEntry.controlVersion).render());
  document.add(kSectionDb, kKeyDbId, JsonValue(dbId).render());
  document.add(kSectionDb, kKeyDbSystemId, JsonValue(currentEntry.systemId).render());
  document.add(kSectionDb, kKeyDbVersion, JsonValue(currentEntry.version).render());
  for (const BackupHistoryEntry& entry : history) {
    JsonValue::Object object{{kKeyDbCatalogVersion, JsonValue(entry.catalogVersion)},
                             {kKeyDbControlVersion, JsonValue(entry.controlVersion)},
                             {kKeyDbSystemId, JsonValue(entry.systemId)},
                             {kKeyDbVersion, JsonValue(entry.version)}};
    mergeUnknown(object, entry.unknown);
    document.add(kSectionDbHistory, std::to_string(entry.id), JsonValue(std::move(object)).render());
  }
  finishInfoDocument(document, unknown);
  return document;
}

}  // namespace pgbr::backup
