// The JSON of `pgbackrest info --output=json` (2.45). pgBackRest builds nested key/value objects and prints them
// compact with keys in byte order, which is what JsonValue renders; absent optional values are JSON null.
#include "backup/info_report.h"

namespace pgbr::backup {
namespace {

template <typename T>
JsonValue orNull(const std::optional<T>& value) {
  return value ? JsonValue(*value) : JsonValue(nullptr);
}

JsonValue::Object startStop(JsonValue start, JsonValue stop) {
  return JsonValue::Object{{"start", std::move(start)}, {"stop", std::move(stop)}};
}

JsonValue::Object database(unsigned id, unsigned repoKey) {
  return JsonValue::Object{{"id", id}, {"repo-key", repoKey}};
}

JsonValue backupJson(const InfoReportBackup& backup, unsigned repoKey) {
  const BackupInfoEntry& entry = backup.entry;
  JsonValue::Object object{
      {"archive", startStop(orNull(entry.archiveStart), orNull(entry.archiveStop))},
      {"backrest", JsonValue::Object{{"format", entry.backrestFormat}, {"version", entry.backrestVersion}}},
      {"database", database(entry.dbId, repoKey)},
      {"info", JsonValue::Object{{"delta", entry.sizeDelta},
                                 {"repository", JsonValue::Object{{"delta", entry.repoSizeDelta},
                                                                  {"size", entry.repoSize}}},
                                 {"size", entry.size}}},
      {"label", entry.label},
      {"prior", orNull(entry.prior)},
      {"timestamp", startStop(entry.timestampStart, entry.timestampStop)},
      {"type", std::string(backupTypeName(entry.type))},
  };
  if (entry.reference) {
    JsonValue::Array references(entry.reference->begin(), entry.reference->end());
    object.emplace("reference", std::move(references));
  } else {
    object.emplace("reference", nullptr);
  }
  if (entry.error) object.emplace("error", *entry.error);
  if (entry.lsnStart && entry.lsnStop) object.emplace("lsn", startStop(*entry.lsnStart, *entry.lsnStop));
  if (entry.annotation) object.emplace("annotation", *entry.annotation);

  if (backup.detail) {
    const InfoReportSetDetail& detail = *backup.detail;
    JsonValue::Array databases;
    for (const auto& db : detail.databases)
      databases.emplace_back(JsonValue::Object{{"name", db.name}, {"oid", db.oid}});
    object.emplace("database-ref", std::move(databases));
    JsonValue::Array links;
    for (const auto& link : detail.links)
      links.emplace_back(JsonValue::Object{{"destination", link.destination}, {"name", link.name}});
    object.emplace("link", links.empty() ? JsonValue(nullptr) : JsonValue(std::move(links)));
    JsonValue::Array tablespaces;
    for (const auto& tablespace : detail.tablespaces)
      tablespaces.emplace_back(JsonValue::Object{
          {"destination", tablespace.destination}, {"name", tablespace.name}, {"oid", tablespace.oid}});
    object.emplace("tablespace", tablespaces.empty() ? JsonValue(nullptr) : JsonValue(std::move(tablespaces)));
    JsonValue::Array errors(detail.checksumPageErrors.begin(), detail.checksumPageErrors.end());
    if (!errors.empty()) object.emplace("checksum-page-error", std::move(errors));
  }
  return object;
}

JsonValue stanzaJson(const InfoReportStanza& stanza) {
  JsonValue::Array db;
  for (const InfoReportDb& cluster : stanza.db)
    db.emplace_back(JsonValue::Object{{"id", cluster.id},
                                      {"repo-key", stanza.repoKey},
                                      {"system-id", cluster.systemId},
                                      {"version", cluster.version}});
  JsonValue::Array archive;
  for (const InfoReportArchive& range : stanza.archive)
    archive.emplace_back(JsonValue::Object{{"database", database(range.dbId, stanza.repoKey)},
                                           {"id", range.archiveId},
                                           {"max", orNull(range.max)},
                                           {"min", orNull(range.min)}});
  JsonValue::Array backups;
  for (const InfoReportBackup& backup : stanza.backups) backups.push_back(backupJson(backup, stanza.repoKey));

  const std::string repoMessage = stanza.status == InfoStatus::Other ? stanza.error : infoStatusMessage(stanza.status);
  JsonValue::Object repo{
      {"cipher", stanza.cipher},
      {"key", stanza.repoKey},
      {"status", JsonValue::Object{{"code", static_cast<int>(stanza.status)}, {"message", repoMessage}}},
  };
  JsonValue::Object lock{{"backup", JsonValue::Object{{"held", stanza.backupLockHeld}}}};
  return JsonValue::Object{
      {"archive", std::move(archive)},
      {"backup", std::move(backups)},
      {"cipher", stanza.cipher},
      {"db", std::move(db)},
      {"name", stanza.name},
      {"repo", JsonValue::Array{std::move(repo)}},
      {"status", JsonValue::Object{{"code", static_cast<int>(stanza.status)},
                                   {"lock", std::move(lock)},
                                   {"message", infoStatusMessage(stanza.status)}}},
  };
}

}  // namespace

JsonValue infoReportJson(const InfoReport& report) {
  JsonValue::Array stanzas;
  for (const InfoReportStanza& stanza : report.stanzas) stanzas.push_back(stanzaJson(stanza));
  return stanzas;
}

std::string renderInfoReportJson(const InfoReport& report) { return infoReportJson(report).render(); }

}  // namespace pgbr::backup
