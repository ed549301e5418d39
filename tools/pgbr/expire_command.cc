// expire: the repo1-retention-* options and --set turned into backup::ExpireOptions; thin wrapper over
// backup/expire.
#include <algorithm>
#include <cstdio>
#include <exception>

#include "backup/expire.h"
#include "backup/pgbackrest_error.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {
namespace {

// A retention option: unset, or an integer from 1 to 9999999 (pgBackRest's range).
std::optional<unsigned> retention(CommandContext& context, std::string_view option) {
  const std::optional<long long> value = context.integer(option);
  if (!value) return std::nullopt;
  if (*value < 1 || *value > 9999999)
    throw backup::CommandError(
        backup::ErrorCode::OptionInvalidValue,
        "'" + std::to_string(*value) + "' is out of range for '" + std::string(option) + "' option",
        "give a value from 1 to 9999999, or leave the option unset");
  return static_cast<unsigned>(*value);
}

}  // namespace

backup::ExpireOptions retentionOptions(CommandContext& context) {
  backup::ExpireOptions options;
  options.retentionFull = retention(context, "repo1-retention-full");
  const std::string fullType = context.value("repo1-retention-full-type").value_or("count");
  if (fullType != "count" && fullType != "time")
    throw backup::CommandError(backup::ErrorCode::OptionInvalidValue,
                               "'" + fullType + "' is not allowed for 'repo1-retention-full-type' option",
                               "use count or time");
  options.retentionFullType = fullType == "time" ? backup::RetentionFullType::Time : backup::RetentionFullType::Count;
  options.retentionDiff = retention(context, "repo1-retention-diff");
  options.retentionArchive = retention(context, "repo1-retention-archive");
  const std::string archiveType = context.value("repo1-retention-archive-type").value_or("full");
  const std::optional<backup::BackupType> type = backup::parseBackupType(archiveType);
  if (!type)
    throw backup::CommandError(backup::ErrorCode::OptionInvalidValue,
                               "'" + archiveType + "' is not allowed for 'repo1-retention-archive-type' option",
                               "use full, diff or incr");
  options.retentionArchiveType = *type;
  if (const std::optional<long long> days = context.integer("repo1-retention-history"))
    options.retentionHistory = static_cast<unsigned>(std::clamp(*days, 0LL, 9999999LL));
  options.repoPath = context.repoPath();
  return options;
}

int expireCommand(CommandContext& context) {
  backup::ExpireOptions options = retentionOptions(context);
  options.set = context.value("set");
  options.dryRun = context.flag("dry-run");
  context.repoCipherType();
  const backup::CommandLock lock = context.lockBackups();
  // As pgBackRest: the repository's error is logged with the repository named, the command fails with 104.
  try {
    backup::expireStanza(context.repo(), context.stanza(), options, context.log());
  } catch (...) {
    const backup::CommandError error = backup::commandErrorFor(std::current_exception());
    char code[16];
    std::snprintf(code, sizeof(code), "[%03d]: ", error.exitCode());
    context.log().error(code + options.repoName + ": " + error.describe());
    throw backup::CommandError(backup::ErrorCode::Command, "expire command encountered 1 error(s)",
                               "the error above names what failed");
  }
  return 0;
}

}  // namespace pgbr::tools
