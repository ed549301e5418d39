#include "backup/manifest.h"

#include <algorithm>

#include "backup/format_error.h"

namespace pgbr::backup {
namespace {

constexpr const char* kSectionBackup = "backup";
constexpr const char* kSectionBackupDb = "backup:db";
constexpr const char* kSectionBackupOption = "backup:option";
constexpr const char* kSectionBackupTarget = "backup:target";
constexpr const char* kSectionDb = "db";
constexpr const char* kSectionMetadata = "metadata";
constexpr const char* kSectionTargetFile = "target:file";
constexpr const char* kSectionTargetFileDefault = "target:file:default";
constexpr const char* kSectionTargetLink = "target:link";
constexpr const char* kSectionTargetLinkDefault = "target:link:default";
constexpr const char* kSectionTargetPath = "target:path";
constexpr const char* kSectionTargetPathDefault = "target:path:default";

constexpr const char* kKeyGroup = "group";
constexpr const char* kKeyMode = "mode";
constexpr const char* kKeyUser = "user";

std::optional<ManifestOwner> readOwner(JsonObjectReader& fields, std::string_view key) {
  std::optional<JsonValue> value = fields.take(key);
  if (!value) return std::nullopt;
  if (value->isString()) return ManifestOwner{std::move(value->asString())};
  if (value->isBool() && !value->asBool()) return ManifestOwner{std::nullopt};
  fields.throwInvalid(key, "expected a name or false but found " + value->render());
}

void putOwner(JsonValue::Object& object, std::string_view key, const std::optional<ManifestOwner>& owner) {
  if (!owner) return;
  object.insert_or_assign(std::string(key), owner->name ? JsonValue(*owner->name) : JsonValue(false));
}

BackupType readType(JsonObjectReader& fields, std::string_view key) {
  const std::string type = fields.requireString(key);
  const std::optional<BackupType> parsed = parseBackupType(type);
  if (!parsed) fields.throwInvalid(key, "unknown backup type '" + printableForMessage(type) + "'");
  return *parsed;
}

// checksum-page-error: page numbers and [first,last] ranges.
void checkPageErrors(JsonObjectReader& fields, const JsonValue::Array& errors) {
  for (const JsonValue& error : errors) {
    if (error.isUInt64()) continue;
    if (error.isArray() && error.asArray().size() == 2 && error.asArray()[0].isUInt64() &&
        error.asArray()[1].isUInt64())
      continue;
    fields.throwInvalid("checksum-page-error", "expected page numbers and [first,last] ranges");
  }
}

ManifestFile readFile(const std::string& name, JsonValue value) {
  JsonObjectReader fields = JsonObjectReader::fromValue(std::move(value), entryContext(kSectionTargetFile, name));
  ManifestFile file;
  file.name = name;
  file.blockIncrSize = fields.optionalUInt64("bi");
  file.blockIncrChecksum = fields.optionalUInt64("bic");
  file.blockIncrMapSize = fields.optionalUInt64("bim");
  file.bundleId = fields.optionalUInt64("bni");
  file.bundleOffset = fields.optionalUInt64("bno");
  file.checksum = fields.optionalString("checksum");
  file.checksumPage = fields.optionalBool("checksum-page");
  file.checksumPageError = fields.optionalArray("checksum-page-error");
  if (file.checksumPageError) checkPageErrors(fields, *file.checksumPageError);
  file.group = readOwner(fields, kKeyGroup);
  file.mode = fields.optionalString(kKeyMode);
  file.repoChecksum = fields.optionalString("rck");
  file.reference = fields.optionalString("reference");
  file.repoSize = fields.optionalUInt64("repo-size");
  file.size = fields.requireUInt64("size");
  file.timestamp = fields.requireInt64("timestamp");
  file.user = readOwner(fields, kKeyUser);
  file.unknown = fields.takeRest();
  return file;
}

JsonValue writeFile(const ManifestFile& file) {
  JsonValue::Object object;
  putIfSet(object, "bi", file.blockIncrSize);
  putIfSet(object, "bic", file.blockIncrChecksum);
  putIfSet(object, "bim", file.blockIncrMapSize);
  putIfSet(object, "bni", file.bundleId);
  putIfSet(object, "bno", file.bundleOffset);
  putIfSet(object, "checksum", file.checksum);
  putIfSet(object, "checksum-page", file.checksumPage);
  putIfSet(object, "checksum-page-error", file.checksumPageError);
  putOwner(object, kKeyGroup, file.group);
  putIfSet(object, kKeyMode, file.mode);
  putIfSet(object, "rck", file.repoChecksum);
  putIfSet(object, "reference", file.reference);
  putIfSet(object, "repo-size", file.repoSize);
  object.emplace("size", file.size);
  object.emplace("timestamp", file.timestamp);
  putOwner(object, kKeyUser, file.user);
  mergeUnknown(object, file.unknown);
  return JsonValue(std::move(object));
}

std::optional<ManifestDefaults> readDefaults(InfoReader& reader, const char* section) {
  if (!reader.hasSection(section)) return std::nullopt;
  JsonObjectReader fields = reader.section(section);
  ManifestDefaults defaults;
  defaults.group = readOwner(fields, kKeyGroup);
  defaults.mode = fields.optionalString(kKeyMode);
  defaults.user = readOwner(fields, kKeyUser);
  reader.keepUnknown(section, fields);
  return defaults;
}

void writeDefaults(IniDocument& document, const char* section, const std::optional<ManifestDefaults>& defaults) {
  if (!defaults) return;
  JsonValue::Object object;
  putOwner(object, kKeyGroup, defaults->group);
  putIfSet(object, kKeyMode, defaults->mode);
  putOwner(object, kKeyUser, defaults->user);
  // An empty defaults section is kept as a header so that it is still there after a round trip.
  document.appendSection(section);
  for (const auto& [key, value] : object) document.add(section, key, value.render());
}

// Adds the entries of a keyed section ordered by name (byte order), as pgBackRest writes them.
template <typename Entry, typename Write>
void writeSorted(IniDocument& document, const char* section, const std::vector<Entry>& entries, Write write) {
  std::vector<const Entry*> sorted;
  sorted.reserve(entries.size());
  for (const Entry& entry : entries) sorted.push_back(&entry);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) { return a->name < b->name; });
  for (const Entry* entry : sorted) document.add(section, entry->name, write(*entry).render());
}

void writeKeyValues(IniDocument& document, const char* section, const JsonValue::Object& object) {
  for (const auto& [key, value] : object) document.add(section, key, value.render());
}

}  // namespace

Manifest Manifest::parse(std::string_view plaintext, const std::string& path) {
  return fromDocument(IniDocument::parse(plaintext), path);
}

Manifest Manifest::fromDocument(const IniDocument& document, const std::string& path) {
  InfoReader reader(document, path);
  Manifest manifest;
  manifest.header = reader.header();

  {
    JsonObjectReader fields = reader.section(kSectionBackup);
    ManifestBackup& backup = manifest.backup;
    backup.archiveStart = fields.optionalString("backup-archive-start");
    backup.archiveStop = fields.optionalString("backup-archive-stop");
    backup.blockIncr = fields.optionalBool("backup-block-incr");
    backup.bundle = fields.optionalBool("backup-bundle");
    backup.bundleRaw = fields.optionalBool("backup-bundle-raw");
    backup.label = fields.requireString("backup-label");
    backup.lsnStart = fields.optionalString("backup-lsn-start");
    backup.lsnStop = fields.optionalString("backup-lsn-stop");
    backup.prior = fields.optionalString("backup-prior");
    backup.reference = fields.optionalString("backup-reference");
    backup.timestampCopyStart = fields.requireInt64("backup-timestamp-copy-start");
    backup.timestampStart = fields.requireInt64("backup-timestamp-start");
    backup.timestampStop = fields.requireInt64("backup-timestamp-stop");
    backup.type = readType(fields, "backup-type");
    reader.keepUnknown(kSectionBackup, fields);
  }
  {
    JsonObjectReader fields = reader.section(kSectionBackupDb);
    ManifestBackupDb& db = manifest.backupDb;
    db.catalogVersion = fields.requireUInt("db-catalog-version");
    db.controlVersion = fields.requireUInt("db-control-version");
    db.id = fields.requireUInt("db-id");
    db.systemId = fields.requireUInt64("db-system-id");
    db.version = fields.requireString("db-version");
    reader.keepUnknown(kSectionBackupDb, fields);
  }
  {
    JsonObjectReader fields = reader.section(kSectionBackupOption);
    ManifestBackupOptions& options = manifest.options;
    options.archiveCheck = fields.requireBool("option-archive-check");
    options.archiveCopy = fields.requireBool("option-archive-copy");
    options.backupStandby = fields.optionalBool("option-backup-standby");
    options.bufferSize = fields.optionalUInt64("option-buffer-size");
    options.checksumPage = fields.optionalBool("option-checksum-page");
    options.compress = fields.requireBool("option-compress");
    options.compressLevel = fields.optionalUInt("option-compress-level");
    options.compressLevelNetwork = fields.optionalUInt("option-compress-level-network");
    options.compressType = fields.optionalString("option-compress-type");
    options.delta = fields.optionalBool("option-delta");
    options.hardlink = fields.requireBool("option-hardlink");
    options.online = fields.requireBool("option-online");
    options.processMax = fields.optionalUInt("option-process-max");
    reader.keepUnknown(kSectionBackupOption, fields);
  }
  for (auto& [name, value] : reader.entries(kSectionBackupTarget)) {
    JsonObjectReader fields = JsonObjectReader::fromValue(std::move(value), entryContext(kSectionBackupTarget, name));
    ManifestTarget target;
    target.name = name;
    target.file = fields.optionalString("file");
    target.path = fields.requireString("path");
    target.tablespaceId = fields.optionalString("tablespace-id");
    target.tablespaceName = fields.optionalString("tablespace-name");
    target.type = fields.requireString("type");
    if (target.type != "path" && target.type != "link")
      fields.throwInvalid("type", "expected 'path' or 'link' but found '" + printableForMessage(target.type) + "'");
    target.unknown = fields.takeRest();
    manifest.targets.push_back(std::move(target));
  }
  if (manifest.targets.empty()) throw FormatError("no targets in section 'backup:target' of '" + path + "'");
  for (auto& [name, value] : reader.entries(kSectionDb)) {
    JsonObjectReader fields = JsonObjectReader::fromValue(std::move(value), entryContext(kSectionDb, name));
    ManifestDatabase database;
    database.name = name;
    database.id = fields.requireUInt("db-id");
    database.lastSystemId = fields.requireUInt("db-last-system-id");
    database.unknown = fields.takeRest();
    manifest.databases.push_back(std::move(database));
  }
  if (reader.hasSection(kSectionMetadata)) {
    JsonObjectReader fields = reader.section(kSectionMetadata);
    manifest.annotation = fields.optionalObject("annotation");
    reader.keepUnknown(kSectionMetadata, fields);
  }
  {
    std::vector<std::pair<std::string, JsonValue>> entries = reader.entries(kSectionTargetFile);
    manifest.files.reserve(entries.size());
    for (auto& [name, value] : entries) manifest.files.push_back(readFile(name, std::move(value)));
  }
  manifest.fileDefault = readDefaults(reader, kSectionTargetFileDefault);
  for (auto& [name, value] : reader.entries(kSectionTargetLink)) {
    JsonObjectReader fields = JsonObjectReader::fromValue(std::move(value), entryContext(kSectionTargetLink, name));
    ManifestLink link;
    link.name = name;
    link.destination = fields.requireString("destination");
    link.group = readOwner(fields, kKeyGroup);
    link.user = readOwner(fields, kKeyUser);
    link.unknown = fields.takeRest();
    manifest.links.push_back(std::move(link));
  }
  manifest.linkDefault = readDefaults(reader, kSectionTargetLinkDefault);
  for (auto& [name, value] : reader.entries(kSectionTargetPath)) {
    JsonObjectReader fields = JsonObjectReader::fromValue(std::move(value), entryContext(kSectionTargetPath, name));
    ManifestPath pathEntry;
    pathEntry.name = name;
    pathEntry.group = readOwner(fields, kKeyGroup);
    pathEntry.mode = fields.optionalString(kKeyMode);
    pathEntry.user = readOwner(fields, kKeyUser);
    pathEntry.unknown = fields.takeRest();
    manifest.paths.push_back(std::move(pathEntry));
  }
  manifest.pathDefault = readDefaults(reader, kSectionTargetPathDefault);
  manifest.unknown = reader.unknown();
  return manifest;
}

IniDocument Manifest::toDocument() const {
  IniDocument document;
  writeInfoHeader(document, header);
  {
    JsonValue::Object object;
    putIfSet(object, "backup-archive-start", backup.archiveStart);
    putIfSet(object, "backup-archive-stop", backup.archiveStop);
    putIfSet(object, "backup-block-incr", backup.blockIncr);
    putIfSet(object, "backup-bundle", backup.bundle);
    putIfSet(object, "backup-bundle-raw", backup.bundleRaw);
    object.emplace("backup-label", backup.label);
    putIfSet(object, "backup-lsn-start", backup.lsnStart);
    putIfSet(object, "backup-lsn-stop", backup.lsnStop);
    putIfSet(object, "backup-prior", backup.prior);
    putIfSet(object, "backup-reference", backup.reference);
    object.emplace("backup-timestamp-copy-start", backup.timestampCopyStart);
    object.emplace("backup-timestamp-start", backup.timestampStart);
    object.emplace("backup-timestamp-stop", backup.timestampStop);
    object.emplace("backup-type", backupTypeName(backup.type));
    writeKeyValues(document, kSectionBackup, object);
  }
  writeKeyValues(document, kSectionBackupDb,
                 JsonValue::Object{{"db-catalog-version", JsonValue(backupDb.catalogVersion)},
                                   {"db-control-version", JsonValue(backupDb.controlVersion)},
                                   {"db-id", JsonValue(backupDb.id)},
                                   {"db-system-id", JsonValue(backupDb.systemId)},
                                   {"db-version", JsonValue(backupDb.version)}});
  {
    JsonValue::Object object;
    object.emplace("option-archive-check", options.archiveCheck);
    object.emplace("option-archive-copy", options.archiveCopy);
    putIfSet(object, "option-backup-standby", options.backupStandby);
    putIfSet(object, "option-buffer-size", options.bufferSize);
    putIfSet(object, "option-checksum-page", options.checksumPage);
    object.emplace("option-compress", options.compress);
    putIfSet(object, "option-compress-level", options.compressLevel);
    putIfSet(object, "option-compress-level-network", options.compressLevelNetwork);
    putIfSet(object, "option-compress-type", options.compressType);
    putIfSet(object, "option-delta", options.delta);
    object.emplace("option-hardlink", options.hardlink);
    object.emplace("option-online", options.online);
    putIfSet(object, "option-process-max", options.processMax);
    writeKeyValues(document, kSectionBackupOption, object);
  }
  writeSorted(document, kSectionBackupTarget, targets, [](const ManifestTarget& target) {
    JsonValue::Object object;
    putIfSet(object, "file", target.file);
    object.emplace("path", target.path);
    putIfSet(object, "tablespace-id", target.tablespaceId);
    putIfSet(object, "tablespace-name", target.tablespaceName);
    object.emplace("type", target.type);
    mergeUnknown(object, target.unknown);
    return JsonValue(std::move(object));
  });
  writeSorted(document, kSectionDb, databases, [](const ManifestDatabase& database) {
    JsonValue::Object object{{"db-id", JsonValue(database.id)},
                             {"db-last-system-id", JsonValue(database.lastSystemId)}};
    mergeUnknown(object, database.unknown);
    return JsonValue(std::move(object));
  });
  if (annotation) document.add(kSectionMetadata, "annotation", JsonValue(*annotation).render());
  writeSorted(document, kSectionTargetFile, files, writeFile);
  writeDefaults(document, kSectionTargetFileDefault, fileDefault);
  writeSorted(document, kSectionTargetLink, links, [](const ManifestLink& link) {
    JsonValue::Object object{{"destination", JsonValue(link.destination)}};
    putOwner(object, kKeyGroup, link.group);
    putOwner(object, kKeyUser, link.user);
    mergeUnknown(object, link.unknown);
    return JsonValue(std::move(object));
  });
  writeDefaults(document, kSectionTargetLinkDefault, linkDefault);
  writeSorted(document, kSectionTargetPath, paths, [](const ManifestPath& pathEntry) {
    JsonValue::Object object;
    putOwner(object, kKeyGroup, pathEntry.group);
    putIfSet(object, kKeyMode, pathEntry.mode);
    putOwner(object, kKeyUser, pathEntry.user);
    mergeUnknown(object, pathEntry.unknown);
    return JsonValue(std::move(object));
  });
  writeDefaults(document, kSectionTargetPathDefault, pathDefault);
  finishInfoDocument(document, unknown);
  return document;
}

const ManifestFile* Manifest::findFile(std::string_view name) const {
  for (const ManifestFile& file : files)
    if (file.name == name) return &file;
  return nullptr;
}

std::vector<std::string> Manifest::referenceList() const {
  std::vector<std::string> labels;
  if (!backup.reference || backup.reference->empty()) return labels;
  std::string_view rest = *backup.reference;
  for (;;) {
    const std::size_t comma = rest.find(',');
    labels.emplace_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) return labels;
    rest.remove_prefix(comma + 1);
  }
}

ManifestFileLocation Manifest::fileLocation(const ManifestFile& file, std::string_view compressExtension) const {
  ManifestFileLocation location;
  location.path = file.reference.value_or(backup.label) + "/";
  location.size = file.storedSize();
  if (file.bundleId) {
    location.path += "bundle/" + std::to_string(*file.bundleId);
    location.offset = file.bundleOffset.value_or(0);
  } else if (file.blockIncrMapSize) {
    location.path += file.name + ".pgbi";
  } else {
    location.path += file.name;
    location.path += compressExtension;
  }
  return location;
}

std::string Manifest::repoPath(const ManifestFile& file, std::string_view compressExtension) const {
  return fileLocation(file, compressExtension).path;
}

Manifest::Totals Manifest::totals() const {
  Totals totals;
  for (const ManifestFile& file : files) {
    totals.size += file.size;
    totals.repoSize += file.storedSize();
    if (!file.reference) {
      totals.sizeDelta += file.size;
      totals.repoSizeDelta += file.storedSize();
    }
  }
  return totals;
}

std::string Manifest::manifestPath(const BackupLabel& label) { return label.str() + "/backup.manifest"; }

std::string Manifest::historyPath(const BackupLabel& label) {
  return "backup.history/" + std::string(label.year()) + "/" + label.str() + ".manifest.gz";
}

}  // namespace pgbr::backup
