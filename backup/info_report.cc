#include "backup/info_report.h"

#include <algorithm>
#include <new>

#include "backup/archive_info.h"
#include "backup/format_error.h"
#include "backup/info_file_loader.h"
#include "backup/manifest.h"
#include "backup/storage_error.h"
#include "backup/wal_name.h"
#include "crypto/crypto_error.h"

namespace pgbr::backup {
namespace {

constexpr const char* kInvalidStanza = "[invalid]";
constexpr std::string_view kPgDataPrefix = "pg_data/";

// "[<ErrorType>] <message>" for the exception in flight, pgBackRest's form of an error in a stanza status.
std::string describeCurrentError() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const FormatError& error) {
    return std::string("[") + error.kind() + "] " + error.withHint();
  } catch (const crypto::CryptoError& error) {
    return std::string("[CryptoError] ") + error.what() + (error.hint().empty() ? "" : "\nHINT: " + error.hint());
  } catch (const StorageError& error) {
    return std::string("[FileReadError] ") + error.what();
  } catch (const std::exception& error) {
    return std::string("[UnknownError] ") + error.what();
  }
}

// The repository as the loader and messages see it: "<repoPath>/<relative>" outside, relative paths inside.
class RepoFiles {
 public:
  RepoFiles(Storage& repo, std::string repoPath) : repo_(repo), prefix_(repoPath.empty() ? "" : repoPath + "/") {}

  std::string displayPath(const std::string& relative) const { return prefix_ + relative; }

  InfoFileReader reader() const {
    return [this](const std::string& path) -> std::optional<std::string> {
      std::optional<Bytes> bytes = repo_.get(path.substr(prefix_.size()));
      if (!bytes) return std::nullopt;
      return std::string(bytes->begin(), bytes->end());
    };
  }

  Storage& storage() const { return repo_; }

 private:
  Storage& repo_;
  std::string prefix_;
};

bool isWalDirectoryName(std::string_view name) {
  return name.size() == 16 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
         });
}

// Segment names (24 characters) of the complete segments archived in one <16 hex> directory, sorted.
std::vector<std::string> segmentsIn(Storage& repo, const std::string& directory) {
  std::vector<std::string> segments;
  for (const std::string& name : repo.list(directory).value_or(std::vector<std::string>{})) {
    std::optional<ArchivedWalName> parsed = parseArchivedWalName(name);
    if (parsed && walFileKind(parsed->walName) == WalFileKind::Segment) segments.push_back(parsed->walName);
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

// The archive id of a backup.info cluster: the archive.info entry with the same id, system id and version, else
// the newest one with the same system id and version. Throws FormatError when none matches.
std::string matchArchiveId(const ArchiveInfo& archiveInfo, const BackupHistoryEntry& cluster) {
  for (auto entry = archiveInfo.history.rbegin(); entry != archiveInfo.history.rend(); ++entry)
    if (entry->id == cluster.id && entry->systemId == cluster.systemId && entry->version == cluster.version)
      return entry->archiveId();
  for (auto entry = archiveInfo.history.rbegin(); entry != archiveInfo.history.rend(); ++entry)
    if (entry->systemId == cluster.systemId && entry->version == cluster.version) return entry->archiveId();
  throw FormatError("unable to retrieve the archive id for database version '" + cluster.version +
                        "' and system-id '" + std::to_string(cluster.systemId) + "'",
                    "archive.info and backup.info name different clusters: was stanza-upgrade interrupted?");
}

InfoReportArchive archiveRange(Storage& repo, const std::string& stanza, const std::string& archiveId,
                               unsigned dbId) {
  InfoReportArchive archive{dbId, archiveId, std::nullopt, std::nullopt};
  const std::string archivePath = "archive/" + stanza + "/" + archiveId;
  std::vector<std::string> directories;
  for (const std::string& name : repo.list(archivePath).value_or(std::vector<std::string>{}))
    if (isWalDirectoryName(name)) directories.push_back(name);
  std::sort(directories.begin(), directories.end());
  for (const std::string& directory : directories) {
    std::vector<std::string> segments = segmentsIn(repo, archivePath + "/" + directory);
    if (!segments.empty()) {
      archive.min = segments.front();
      break;
    }
  }
  for (auto directory = directories.rbegin(); directory != directories.rend(); ++directory) {
    std::vector<std::string> segments = segmentsIn(repo, archivePath + "/" + *directory);
    if (!segments.empty()) {
      archive.max = segments.back();
      break;
    }
  }
  return archive;
}

std::string pgDataRelative(const std::string& name) {
  return name.starts_with(kPgDataPrefix) ? name.substr(kPgDataPrefix.size()) : name;
}

InfoReportSetDetail setDetail(const Manifest& manifest) {
  InfoReportSetDetail detail;
  for (const ManifestDatabase& database : manifest.databases)
    if (database.id > database.lastSystemId) detail.databases.push_back({database.name, database.id});
  for (const ManifestTarget& target : manifest.targets) {
    if (target.type != "link") continue;
    if (target.tablespaceName) {
      std::uint64_t oid = 0;
      try {
        oid = std::stoull(target.tablespaceId.value_or("0"));
      } catch (const std::logic_error&) {
        throw FormatError("tablespace-id '" + target.tablespaceId.value_or("") + "' of target '" + target.name +
                          "' is not a number");
      }
      detail.tablespaces.push_back({*target.tablespaceName, oid, target.path});
    } else if (target.file) {
      detail.links.push_back({*target.file, target.path + "/" + *target.file});
    } else {
      detail.links.push_back({pgDataRelative(target.name), target.path});
    }
  }
  for (const ManifestFile& file : manifest.files)
    if (file.checksumPage == false) detail.checksumPageErrors.push_back(pgDataRelative(file.name));
  return detail;
}

struct LoadedStanza {
  std::optional<BackupInfo> backupInfo;
  std::optional<ArchiveInfo> archiveInfo;
  std::optional<Manifest> manifest;
};

void fail(InfoReportStanza& stanza) {
  stanza.status = InfoStatus::Other;
  stanza.error = describeCurrentError();
  stanza.db.clear();
  stanza.archive.clear();
  stanza.backups.clear();
  stanza.current.reset();
}

// Loads the info files (and the --set manifest) of a stanza that exists; problems become the stanza's status.
LoadedStanza loadStanza(const RepoFiles& files, InfoReportStanza& stanza, const std::optional<std::string>& set) {
  LoadedStanza loaded;
  try {
    try {
      loaded.backupInfo =
          loadBackupInfo(files.displayPath("backup/" + stanza.name + "/backup.info"), files.reader());
    } catch (const FileMissingError&) {
      stanza.status = InfoStatus::MissingStanzaData;
      return loaded;
    }
    loaded.archiveInfo =
        loadArchiveInfo(files.displayPath("archive/" + stanza.name + "/archive.info"), files.reader());
    if (set)
      loaded.manifest = loadManifest(files.displayPath("backup/" + stanza.name + "/" + *set + "/backup.manifest"),
                                     files.reader());
  } catch (...) {
    fail(stanza);
    return {};
  }
  return loaded;
}

void fillStanza(const RepoFiles& files, InfoReportStanza& stanza, const LoadedStanza& loaded,
                const std::optional<std::string>& set) {
  if (!loaded.backupInfo) return;
  const BackupInfo& backupInfo = *loaded.backupInfo;
  try {
    const BackupHistoryEntry& current = backupInfo.current();
    stanza.current = InfoReportDb{current.id, current.systemId, current.version};
    for (std::size_t index = 0; index < backupInfo.history.size(); ++index) {
      const BackupHistoryEntry& cluster = backupInfo.history[index];
      stanza.db.push_back({cluster.id, cluster.systemId, cluster.version});
      InfoReportArchive archive = archiveRange(files.storage(), stanza.name,
                                               matchArchiveId(*loaded.archiveInfo, cluster), cluster.id);
      if (index + 1 == backupInfo.history.size() || archive.min) stanza.archive.push_back(std::move(archive));
    }
    for (const BackupInfoEntry& entry : backupInfo.backups) {
      if (set && entry.label != *set) continue;
      InfoReportBackup backup{entry, std::nullopt};
      if (set && loaded.manifest) backup.detail = setDetail(*loaded.manifest);
      stanza.backups.push_back(std::move(backup));
    }
  } catch (...) {
    fail(stanza);
    return;
  }
  if (stanza.status == InfoStatus::Ok && stanza.backups.empty()) stanza.status = InfoStatus::NoBackup;
}

InfoReportStanza newStanza(const std::string& name, const InfoReportOptions& options) {
  InfoReportStanza stanza;
  stanza.name = name;
  stanza.cipher = options.cipherType;
  stanza.repoKey = options.repoKey;
  return stanza;
}

}  // namespace

const char* infoStatusMessage(InfoStatus status) noexcept {
  switch (status) {
    case InfoStatus::Ok:
      return "ok";
    case InfoStatus::MissingStanzaPath:
      return "missing stanza path";
    case InfoStatus::NoBackup:
      return "no valid backups";
    case InfoStatus::MissingStanzaData:
      return "missing stanza data";
    case InfoStatus::BackupMissing:
      return "requested backup not found";
    case InfoStatus::Other:
      return "other";
  }
  return "other";
}

InfoReport collectInfoReport(Storage& repo, const InfoReportOptions& options) {
  InfoReport report;
  report.set = options.set;
  const RepoFiles files(repo, options.repoPath);

  std::vector<std::string> names;
  bool setFound = false;
  try {
    names = repo.list("backup").value_or(std::vector<std::string>{});
    if (options.set && options.stanza)
      setFound = repo.info("backup/" + *options.stanza + "/" + *options.set + "/backup.manifest").has_value();
  } catch (...) {
    InfoReportStanza stanza = newStanza(options.stanza.value_or(kInvalidStanza), options);
    fail(stanza);
    report.stanzas.push_back(std::move(stanza));
    return report;
  }
  std::sort(names.begin(), names.end());
  bool stanzaExists = true;
  if (options.stanza) {
    stanzaExists = std::find(names.begin(), names.end(), *options.stanza) != names.end();
    names = {*options.stanza};
  }

  for (const std::string& name : names) {
    InfoReportStanza stanza = newStanza(name, options);
    if (!stanzaExists) {
      stanza.status = InfoStatus::MissingStanzaPath;
    } else {
      const std::optional<std::string> set = setFound ? options.set : std::nullopt;
      const LoadedStanza loaded = loadStanza(files, stanza, set);
      if (options.set && !setFound && stanza.status == InfoStatus::Ok)
        stanza.status = InfoStatus::BackupMissing;
      else
        fillStanza(files, stanza, loaded, set);
    }
    report.stanzas.push_back(std::move(stanza));
  }
  return report;
}

}  // namespace pgbr::backup
