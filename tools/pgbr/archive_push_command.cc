// archive-push WAL_PATH: thin wrapper over backup::archivePush.
#include "backup/archive_push.h"
#include "backup/compress_type.h"
#include "backup/pgbackrest_error.h"
#include "backup/stanza_info.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {

using backup::CommandError;
using backup::ErrorCode;

int archivePushCommand(CommandContext& context) {
  backup::ArchivePushOptions options;
  options.compressType = context.compressType();
  options.compressLevel = context.compressLevel(options.compressType);
  options.headerCheck = context.flag("archive-header-check");
  if (const std::optional<std::string> pgPath = context.value("pg1-path")) options.cluster = backup::readPgControl(*pgPath);

  const std::string stanza = context.stanza();
  context.repoCipherType();
  const backup::ArchiveInfo archiveInfo = backup::loadStanzaArchiveInfo(context.repo(), stanza, context.repoPath());
  const std::string& walPath = context.arguments().front();
  const backup::ArchivePushResult result =
      backup::archivePush(context.repo(), stanza, archiveInfo, walPath, options);
  const std::string walName = std::filesystem::path(walPath).filename().string();
  if (result.outcome == backup::ArchivePushResult::Outcome::AlreadyExists)
    context.log().warn("WAL file '" + walName + "' already exists in the repo1 archive with the same checksum\n"
                       "HINT: this is valid in some recovery scenarios but may also indicate a problem.");
  else
    context.log().info("pushed WAL file '" + walName + "' to the archive");
  return 0;
}

}  // namespace pgbr::tools
