// pgbr: pgBackRest-compatible commands for repositories whose encryption is done by a pgbrfs mount. Parses the
// command line, loads the configuration, runs one command and turns any failure into pgBackRest's error line and
// exit code. Everything else lives in backup/.
#include <cstdio>
#include <exception>

#include "backup/command_log.h"
#include "backup/pgbackrest_error.h"
#include "tools/pgbr/command_context.h"
#include "tools/pgbr/command_line.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {
namespace {

std::string errorLine(const backup::CommandError& error) {
  char code[16];
  std::snprintf(code, sizeof(code), "[%03d]: ", error.exitCode());
  return code + error.describe();
}

// Before the log exists (command line, configuration): pgBackRest's shape on stderr.
int failEarly(const backup::CommandError& error) {
  std::fprintf(stderr, "%s\n", backup::formatLogLine(backup::LogLevel::Error, errorLine(error)).c_str());
  return error.exitCode();
}

int runCommand(CommandContext& context) {
  const std::string_view name = context.command().name;
  if (name == "archive-get") return archiveGetCommand(context);
  if (name == "archive-push") return archivePushCommand(context);
  if (name == "backup") return backupCommand(context);
  if (name == "check") return checkCommand(context);
  if (name == "expire") return expireCommand(context);
  if (name == "info") return infoCommand(context);
  if (name == "restore") return restoreCommand(context);
  if (name == "stanza-create") return stanzaCreateCommand(context);
  if (name == "verify") return verifyCommand(context);
  throw backup::CommandError(backup::ErrorCode::CommandInvalid, "command '" + std::string(name) + "' is not implemented");
}

int run(int argc, const char* const argv[]) {
  ParsedCommandLine parsed;
  try {
    parsed = parseCommandLine(argc, argv);
  } catch (...) {
    return failEarly(backup::commandErrorFor(std::current_exception()));
  }
  try {
    if (parsed.command.empty() || parsed.command == "help") return helpCommand(parsed.arguments);
    if (parsed.command == "version") return versionCommand();
  } catch (...) {
    return failEarly(backup::commandErrorFor(std::current_exception()));
  }

  std::unique_ptr<CommandContext> context;
  try {
    context = std::make_unique<CommandContext>(*findCommand(parsed.command), parsed.arguments, parsed.options);
    context->logBegin();
  } catch (...) {
    return failEarly(backup::commandErrorFor(std::current_exception()));
  }
  try {
    const int status = runCommand(*context);
    context->logEnd(std::nullopt);
    return status;
  } catch (...) {
    const backup::CommandError error = backup::commandErrorFor(std::current_exception());
    context->log().error(errorLine(error));
    context->logEnd(error.exitCode());
    return error.exitCode();
  }
}

}  // namespace
}  // namespace pgbr::tools

int main(int argc, char* argv[]) { return pgbr::tools::run(argc, argv); }
