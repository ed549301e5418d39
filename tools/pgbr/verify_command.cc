// verify: every WAL segment and backup file of the stanza re-read and checked (backup/verify); prints the report
// (text or --output=json) and, unlike pgBackRest 2.45, fails when anything did not check out.
#include <iostream>

#include "backup/pgbackrest_error.h"
#include "backup/verify.h"
#include "crypto/cipher_spec.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {

int verifyCommand(CommandContext& context) {
  const bool json = context.jsonOutput();
  backup::VerifyOptions options;
  options.encryptedMount = context.repoCipherType() != crypto::CipherType::None;
  options.repoPath = context.repoPath();
  const backup::VerifyReport report = backup::verifyStanza(context.repo(), context.stanza(), options, context.log());
  std::cout << (json ? backup::renderVerifyJson(report) : backup::renderVerifyText(report));
  std::cout.flush();
  if (!report.ok())
    throw backup::CommandError(backup::ErrorCode::Command,
                               "verify command found " + std::to_string(report.errors.size()) +
                                   " error(s) in stanza '" + context.stanza() + "'",
                               "the report lists each file that failed; restore those files from another copy of the "
                               "repository, or take a new backup");
  return 0;
}

}  // namespace pgbr::tools
