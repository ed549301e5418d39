#include "backup/archive_lookup.h"

#include <thread>

#include "backup/stanza_info.h"
#include "backup/wal_name.h"

namespace pgbr::backup {

std::string walDirectoryPath(std::string_view stanza, std::string_view archiveId, std::string_view walName) {
  std::string path = stanzaArchivePath(stanza) + "/" + std::string(archiveId);
  const std::string sub = walArchiveDirectory(walName);
  if (!sub.empty()) path += "/" + sub;
  return path;
}

std::vector<std::string> findArchivedSegment(Storage& storage, const std::string& directory,
                                             std::string_view walName) {
  std::vector<std::string> found;
  const std::optional<std::vector<std::string>> names = storage.list(directory);
  if (!names) return found;
  for (const std::string& name : *names) {
    if (!name.starts_with(walName)) continue;  // cheap filter before parsing: most names are other segments
    const std::optional<ArchivedWalName> parsed = parseArchivedWalName(name);
    if (parsed && parsed->walName == walName) found.push_back(name);
  }
  return found;
}

std::vector<std::string> archiveIdsToSearch(const ArchiveInfo& info, const std::optional<PgControl>& cluster) {
  const ArchiveHistoryEntry& current = info.current();
  const std::string& version = cluster ? cluster->version : current.version;
  const std::uint64_t systemId = cluster ? cluster->systemId : current.systemId;
  std::vector<std::string> ids;
  for (auto entry = info.history.rbegin(); entry != info.history.rend(); ++entry)
    if (entry->version == version && entry->systemId == systemId) ids.push_back(entry->archiveId());
  return ids;
}

std::optional<std::string> waitForArchivedSegment(Storage& storage, std::string_view stanza,
                                                  std::string_view archiveId, std::string_view walName,
                                                  std::chrono::milliseconds timeout) {
  const std::string directory = walDirectoryPath(stanza, archiveId, walName);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const std::vector<std::string> found = findArchivedSegment(storage, directory, walName);
    if (!found.empty()) return directory + "/" + found.front();
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace pgbr::backup
