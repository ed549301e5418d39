// stanza-create: thin wrapper over backup::stanzaCreate; the cluster is identified by pg1-path's pg_control.
#include "backup/pg_control.h"
#include "backup/stanza_create.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {

int stanzaCreateCommand(CommandContext& context) {
  const backup::PgControl cluster = backup::readPgControl(context.required("pg1-path"));
  const std::string stanza = context.stanza();
  const bool encrypted = context.repoCipherType() == crypto::CipherType::Aes256Cbc;
  const backup::CommandLock lock = context.lockBackups();
  context.log().info("stanza-create for stanza '" + stanza + "' on repo1" + (encrypted ? " (encrypted pgbrfs mount)" : ""));
  const backup::StanzaCreateResult result = backup::stanzaCreate(context.repo(), stanza, cluster, encrypted);
  if (result.outcome == backup::StanzaCreateResult::Outcome::AlreadyValid)
    context.log().info("stanza '" + stanza + "' already exists on repo1 and is valid");
  return 0;
}

}  // namespace pgbr::tools
