// What pgBackRest reads from a cluster's data directory to identify it (FORMAT.md §4.2, §4.3): the major version
// (PG_VERSION), and from global/pg_control the system identifier, the control file version and the catalog
// version. stanza-create writes them into archive.info and backup.info; archive-push and archive-get compare them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "crypto/bytes.h"

namespace pgbr::backup {

struct PgControl {
  std::string version;              // "15", "9.6"
  std::uint64_t systemId = 0;       // system_identifier
  std::uint32_t controlVersion = 0; // pg_control_version, 1300 for PostgreSQL 13-16
  std::uint32_t catalogVersion = 0; // catalog_version_no, e.g. 202209061
};

// Reads PG_VERSION and global/pg_control under `pgPath`. Throws CommandError: FileMissing when either file is
// absent (with a hint to check pg1-path), FileRead when unreadable, Format when too short, VersionNotSupported
// when the control version does not belong to the major version.
PgControl readPgControl(const std::filesystem::path& pgPath);

// Parses the start of a pg_control file for `version`; `fileName` names it in messages.
PgControl parsePgControl(ByteView data, const std::string& version, const std::string& fileName);

}  // namespace pgbr::backup
