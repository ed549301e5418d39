// One function per pgbr command; each returns the exit status and throws backup::CommandError (or any library
// error) on failure. main() catches, logs and exits with the error's code.
#pragma once

#include <string>
#include <vector>

#include "backup/expire.h"
#include "tools/pgbr/command_context.h"

namespace pgbr::tools {

int archiveGetCommand(CommandContext& context);
int archivePushCommand(CommandContext& context);
int backupCommand(CommandContext& context);
int checkCommand(CommandContext& context);
int expireCommand(CommandContext& context);
int infoCommand(CommandContext& context);
int restoreCommand(CommandContext& context);
int stanzaCreateCommand(CommandContext& context);
int verifyCommand(CommandContext& context);

// The repo1-retention-* options in effect as backup::ExpireOptions (set and dryRun left unset): what `pgbr expire`
// applies, and what a backup applies when it expires after itself. Throws CommandError (OptionInvalidValue).
backup::ExpireOptions retentionOptions(CommandContext& context);

// No configuration needed.
int helpCommand(const std::vector<std::string>& arguments);
int versionCommand();

}  // namespace pgbr::tools
