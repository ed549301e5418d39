// Finding a WAL file in a stanza's archive (FORMAT.md §1, §7): which archive ids to search in pgBackRest's order,
// and which stored files are a given segment ("<segment>-<sha1>[.ext]" in "<archive id>/<first16>/").
// Shared by archive-push (duplicate check), archive-get and check.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/archive_info.h"
#include "backup/pg_control.h"
#include "backup/storage.h"

namespace pgbr::backup {

// Repository path of the directory that holds `walName` under `archiveId`:
// "archive/<stanza>/<archive id>/<first16>" for segments, partials and backup history files, and
// "archive/<stanza>/<archive id>" for timeline history files. Precondition: walFileKind(walName) has a value.
std::string walDirectoryPath(std::string_view stanza, std::string_view archiveId, std::string_view walName);

// Names (not paths) of the stored files of segment or partial `walName` in `directory`, sorted; empty when none
// or when the directory does not exist.
std::vector<std::string> findArchivedSegment(Storage& storage, const std::string& directory,
                                             std::string_view walName);

// The archive ids archive-get searches, in pgBackRest's order: history entries of `info` whose version and system
// id match `cluster` (the current database when nullopt), newest first.
std::vector<std::string> archiveIdsToSearch(const ArchiveInfo& info, const std::optional<PgControl>& cluster);

// Polls (every 100 ms) until segment `walName` is stored under `archiveId`, at most `timeout`. Returns the stored
// file's path, or nullopt after the timeout.
std::optional<std::string> waitForArchivedSegment(Storage& storage, std::string_view stanza,
                                                  std::string_view archiveId, std::string_view walName,
                                                  std::chrono::milliseconds timeout);

}  // namespace pgbr::backup
