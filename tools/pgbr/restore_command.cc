// restore: thin wrapper over backup::restoreBackup and backup::writeRecoverySettings. Builds restore_command from
// this executable and the options given on the command line that archive-get needs to find the repository.
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <map>

#include "backup/pgbackrest_error.h"
#include "backup/recovery_conf.h"
#include "backup/restore.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {

namespace {

using backup::CommandError;
using backup::ErrorCode;

// NAME=PATH values of a hash option.
std::map<std::string, std::string> hashOption(const CommandContext& context, std::string_view option) {
  std::map<std::string, std::string> result;
  for (const std::string& item : context.values(option)) {
    const std::size_t equals = item.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == item.size())
      throw CommandError(ErrorCode::OptionInvalidValue,
                         "'" + item + "' is not valid for '" + std::string(option) + "' option",
                         "give it as --" + std::string(option) + "=NAME=PATH");
    result[item.substr(0, equals)] = item.substr(equals + 1);
  }
  return result;
}

std::string executablePath() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string("pgbr") : self.string();
}

// pgbr [options given on the command line that archive-get uses, sorted] archive-get %f "%p".
std::string archiveGetCommandLine(const CommandContext& context) {
  std::string command = executablePath();
  for (const char* option : {"config", "config-include-path", "config-path", "pg1-path", "repo1-cipher-type",
                             "repo1-path", "stanza"})
    if (context.fromCommandLine(option)) command += " --" + std::string(option) + "=" + *context.value(option);
  return command + " archive-get %f \"%p\"";
}

}  // namespace

int restoreCommand(CommandContext& context) {
  backup::RecoverySettings recovery;
  const std::string type = context.value("type").value_or("default");
  const std::optional<backup::RecoveryType> recoveryType = backup::parseRecoveryType(type);
  if (!recoveryType)
    throw CommandError(ErrorCode::OptionInvalidValue, "'" + type + "' is not allowed for 'type' option",
                       "use default, immediate, time, xid, lsn, name, standby, none or preserve");
  recovery.type = *recoveryType;
  recovery.target = context.value("target");
  recovery.targetAction = context.value("target-action");
  recovery.targetTimeline = context.value("target-timeline");
  recovery.targetExclusive = context.flag("target-exclusive");
  recovery.restoreCommand = archiveGetCommandLine(context);
  backup::validateRecoverySettings(recovery);

  backup::RestoreOptions options;
  options.stanza = context.stanza();
  options.set = context.value("set");
  options.pgPath = context.required("pg1-path");
  options.delta = context.flag("delta");
  options.force = context.flag("force");
  options.tablespaceMap = hashOption(context, "tablespace-map");
  options.tablespaceMapAll = context.value("tablespace-map-all");
  options.linkMap = hashOption(context, "link-map");
  options.linkAll = context.flag("link-all");
  const long long processMax = context.integer("process-max").value_or(1);
  if (processMax < 1 || processMax > 999)
    throw CommandError(ErrorCode::OptionInvalidValue,
                       "'" + std::to_string(processMax) + "' is out of range for 'process-max' option",
                       "give a number of threads from 1 to 999");
  options.processMax = static_cast<unsigned>(processMax);
  options.preserveRecoveryFiles = recovery.type == backup::RecoveryType::Preserve;
  options.repoEncrypted = context.repoCipherType() != crypto::CipherType::None;
  backup::CommandLog& log = context.log();
  options.log = [&log](bool detail, const std::string& line) { detail ? log.detail(line) : log.info(line); };

  const backup::RestoreResult result = backup::restoreBackup(context.repo(), options);
  if (recovery.type != backup::RecoveryType::Preserve) {
    backup::writeRecoverySettings(options.pgPath, recovery, std::time(nullptr));
    log.info("write updated " + (options.pgPath / "postgresql.auto.conf").string());
  }
  log.info("restored backup set " + result.label + ": " + std::to_string(result.fileTotal) + " files" +
           (options.delta || options.force ? ", " + std::to_string(result.reusedFiles) + " unchanged, " +
                                                 std::to_string(result.removed) + " removed"
                                           : ""));
  return 0;
}

}  // namespace pgbr::tools
