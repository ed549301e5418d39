// check: thin wrapper over backup::stanzaCheck (connects to the cluster with the pg1-* options).
#include "backup/stanza_check.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {

int checkCommand(CommandContext& context) {
  const std::string stanza = context.stanza();
  context.repoCipherType();
  backup::PgConnection connection = backup::PgConnection::connect(context.pgConnectionOptions("pgbr [check]"));
  const backup::StanzaCheckResult result =
      backup::stanzaCheck(connection, context.repo(), stanza, context.repoPath(), context.duration("archive-timeout"));
  context.log().info("WAL segment " + result.walSegment + " successfully archived to '" + context.repoPath() + "/" +
                     result.repoFile + "' on repo1");
  return 0;
}

}  // namespace pgbr::tools
