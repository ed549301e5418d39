// check (FORMAT.md §7.3): the stanza's info files match the running cluster, and WAL reaches the archive: force a
// segment switch through the cluster, then wait up to archive-timeout for that segment to be archived.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "backup/pg_connection.h"
#include "backup/storage.h"

namespace pgbr::backup {

struct StanzaCheckResult {
  std::string walSegment;  // the segment switched to the archive
  std::string repoFile;    // where it was found
};

// Reads version and system id from the cluster itself, compares them with archive.info and backup.info (throws
// CommandError(FileInvalid) on a mismatch, RepoInvalid when archive.info cannot be loaded), writes a restore point
// so that the switch closes a segment, switches and waits. Throws CommandError(ArchiveTimeout) when the segment
// is not archived within `timeout`, with hints about archive_command.
StanzaCheckResult stanzaCheck(PgConnection& connection, Storage& storage, std::string_view stanza,
                              const std::string& repoPath, std::chrono::milliseconds timeout);

}  // namespace pgbr::backup
