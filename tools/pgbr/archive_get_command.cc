// archive-get WAL_NAME DEST_PATH: thin wrapper over backup::archiveGet. Not found is exit status 1, as in pgBackRest.
#include "backup/archive_get.h"
#include "backup/stanza_info.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {

int archiveGetCommand(CommandContext& context) {
  std::optional<backup::PgControl> cluster;
  if (const std::optional<std::string> pgPath = context.value("pg1-path")) cluster = backup::readPgControl(*pgPath);
  const std::string stanza = context.stanza();
  context.repoCipherType();
  const backup::ArchiveInfo archiveInfo = backup::loadStanzaArchiveInfo(context.repo(), stanza, context.repoPath());
  const std::string& walName = context.arguments()[0];
  const std::optional<backup::ArchiveGetResult> found =
      backup::archiveGet(context.repo(), stanza, archiveInfo, walName, context.arguments()[1], cluster);
  if (!found) {
    context.log().info("unable to find " + walName + " in the archive");
    return 1;
  }
  context.log().info("found " + walName + " in the repo1: " + found->archiveId + " archive");
  return 0;
}

}  // namespace pgbr::tools
