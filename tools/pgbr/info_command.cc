// info: the repository's stanzas, archive ranges and backups as `pgbackrest info` 2.45 prints them (text, or
// --output=json for monitoring that parses pgBackRest's JSON); thin wrapper over backup/info_report.
#include <iostream>

#include "backup/info_report.h"
#include "backup/pgbackrest_error.h"
#include "crypto/cipher_spec.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {

int infoCommand(CommandContext& context) {
  const bool json = context.jsonOutput();
  backup::InfoReportOptions options;
  options.cipherType = crypto::cipherTypeName(context.repoCipherType());
  options.stanza = context.value("stanza");
  options.set = context.value("set");
  options.repoPath = context.repoPath();
  const backup::InfoReport report = backup::collectInfoReport(context.repo(), options);
  std::cout << (json ? backup::renderInfoReportJson(report) : backup::renderInfoReportText(report));
  std::cout.flush();
  return 0;
}

}  // namespace pgbr::tools
