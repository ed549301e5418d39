#include "backup/stanza_check.h"

#include "backup/archive_lookup.h"
#include "backup/pgbackrest_error.h"
#include "backup/stanza_info.h"

namespace pgbr::backup {

namespace {

// The cluster as it reports itself; the major version from server_version_num (150004 -> "15", 90624 -> "9.6").
PgControl clusterFromConnection(PgConnection& connection) {
  const auto row = connection.queryRow(
      "select current_setting('server_version_num'), system_identifier, pg_control_version, catalog_version_no "
      "from pg_catalog.pg_control_system()");
  for (const auto& column : row)
    if (!column) throw CommandError(ErrorCode::DbQuery, "pg_control_system() returned null");
  const unsigned long versionNum = std::stoul(*row[0]);
  PgControl cluster;
  cluster.version = versionNum >= 100000 ? std::to_string(versionNum / 10000)
                                         : std::to_string(versionNum / 10000) + "." + std::to_string(versionNum / 100 % 100);
  cluster.systemId = std::stoull(*row[1]);
  cluster.controlVersion = static_cast<std::uint32_t>(std::stoul(*row[2]));
  cluster.catalogVersion = static_cast<std::uint32_t>(std::stoul(*row[3]));
  return cluster;
}

}  // namespace

StanzaCheckResult stanzaCheck(PgConnection& connection, Storage& storage, std::string_view stanza,
                              const std::string& repoPath, std::chrono::milliseconds timeout) {
  const PgControl cluster = clusterFromConnection(connection);
  const ArchiveInfo archive = loadStanzaArchiveInfo(storage, stanza, repoPath);
  const BackupInfo backup = loadStanzaBackupInfo(storage, stanza, repoPath);
  checkStanzaMatchesCluster(archive, backup, cluster);

  if (connection.queryRow("select pg_catalog.pg_is_in_recovery()")[0] == "t")
    throw CommandError(ErrorCode::FeatureNotSupported, "check on a standby is not supported by pgbr yet",
                       "run check against the primary");
  // Something must be written since the last switch, or pg_switch_wal() closes no segment.
  connection.queryRow("select pg_catalog.pg_create_restore_point('pgbr archive check')::text");
  StanzaCheckResult result;
  result.walSegment = *connection.queryRow("select pg_catalog.pg_walfile_name(pg_catalog.pg_switch_wal())")[0];
  const std::optional<std::string> found =
      waitForArchivedSegment(storage, stanza, archive.archiveId(), result.walSegment, timeout);
  if (!found)
    throw CommandError(ErrorCode::ArchiveTimeout,
                       "WAL segment " + result.walSegment + " was not archived before the " +
                           std::to_string(timeout.count()) + "ms timeout",
                       "check the archive_command to ensure that all options are correct (especially --stanza).\n"
                       "check the PostgreSQL server log for errors.\n"
                       "run the 'start' command if the stanza was previously stopped.");
  result.repoFile = *found;
  return result;
}

}  // namespace pgbr::backup
