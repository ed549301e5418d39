#include "backup/archive_info.h"

#include "backup/format_error.h"

namespace pgbr::backup {
namespace {

constexpr const char* kSectionDb = "db";
constexpr const char* kSectionDbHistory = "db:history";
constexpr const char* kKeyDbId = "db-id";
constexpr const char* kKeyDbSystemId = "db-system-id";
constexpr const char* kKeyDbVersion = "db-version";

}  // namespace

std::string ArchiveHistoryEntry::archiveId() const { return version + "-" + std::to_string(id); }

ArchiveInfo ArchiveInfo::parse(std::string_view plaintext, const std::string& path) {
  return fromDocument(IniDocument::parse(plaintext), path);
}

ArchiveInfo ArchiveInfo::fromDocument(const IniDocument& document, const std::string& path) {
  InfoReader reader(document, path);
  ArchiveInfo info;
  info.header = reader.header();

  JsonObjectReader db = reader.section(kSectionDb);
  info.dbId = db.requireUInt(kKeyDbId);
  db.take(kKeyDbSystemId);  // written from the current history entry
  db.take(kKeyDbVersion);
  reader.keepUnknown(kSectionDb, db);

  for (auto& [key, value] : reader.entries(kSectionDbHistory)) {
    JsonObjectReader fields = JsonObjectReader::fromValue(std::move(value), entryContext(kSectionDbHistory, key));
    ArchiveHistoryEntry entry;
    entry.id = parseHistoryId(key);
    if (info.findHistory(entry.id) != nullptr)
      throw FormatError("duplicate history id " + std::to_string(entry.id) + " in '" + path + "'");
    entry.systemId = fields.requireUInt64(kKeyDbId);
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

const ArchiveHistoryEntry* ArchiveInfo::findHistory(unsigned id) const {
  for (const ArchiveHistoryEntry& entry : history)
    if (entry.id == id) return &entry;
  return nullptr;
}

const ArchiveHistoryEntry& ArchiveInfo::current() const {
  const ArchiveHistoryEntry* entry = findHistory(dbId);
  if (entry == nullptr) throw FormatError("unable to find current id " + std::to_string(dbId) + " in history");
  return *entry;
}

IniDocument ArchiveInfo::toDocument() const {
  const ArchiveHistoryEntry& currentEntry = current();
  IniDocument document;
  writeInfoHeader(document, header);
  document.add(kSectionDb, kKeyDbId, JsonValue(dbId).render());
  document.add(kSectionDb, kKeyDbSystemId, JsonValue(currentEntry.systemId).render());
  document.add(kSectionDb, kKeyDbVersion, JsonValue(currentEntry.version).render());
  for (const ArchiveHistoryEntry& entry : history) {
    JsonValue::Object object{{kKeyDbId, JsonValue(entry.systemId)}, {kKeyDbVersion, JsonValue(entry.version)}};
    mergeUnknown(object, entry.unknown);
    document.add(kSectionDbHistory, std::to_string(entry.id), JsonValue(std::move(object)).render());
  }
  finishInfoDocument(document, unknown);
  return document;
}

}  // namespace pgbr::backup
