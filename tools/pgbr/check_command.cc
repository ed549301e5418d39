// check: thin wrapper over backup::stanzaCheck (connects to the cluster with the pg1-* options).
#include "backup/stanza_check.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {

int checkCommand(CommandContext& context) {
  const std::string stanza = context.stanza();
  context.repoCipherType();
  backup::PgConnectionOptions options;
  options.socketPath = context.value("pg1-socket-path");
  options.port = static_cast<unsigned>(*context.integer("pg1-port"));
  options.user = context.value("pg1-user");
  options.database = *context.value("pg1-database");
  options.applicationName = "pgbr [check]";
  backup::PgConnection connection = backup::PgConnection::connect(options);
  const backup::StanzaCheckResult result =
      backup::stanzaCheck(connection, context.repo(), stanza, context.repoPath(), context.duration("archive-timeout"));
  context.log().info("WAL segment " + result.walSegment + " successfully archived to '" + context.repoPath() + "/" +
                     result.repoFile + "' on repo1");
  return 0;
}

}  // namespace pgbr::tools
