// help [COMMAND] and version: texts generated from the option table, so they cannot drift from what is parsed.
#include <cstdio>
#include <string>

#include "backup/info_reader.h"
#include "backup/pgbackrest_error.h"
#include "tools/pgbr/commands.h"
#include "tools/pgbr/option_table.h"

namespace pgbr::tools {

namespace {

void printWrapped(std::string_view text, std::size_t indent) {
  std::size_t column = indent;
  std::printf("%*s", static_cast<int>(indent), "");
  while (!text.empty()) {
    const std::size_t end = text.find(' ');
    const std::string_view word = text.substr(0, end);
    if (column > indent && column + word.size() + 1 > 100) {
      std::printf("\n%*s", static_cast<int>(indent), "");
      column = indent;
    } else if (column > indent) {
      std::printf(" ");
      ++column;
    }
    std::printf("%.*s", static_cast<int>(word.size()), word.data());
    column += word.size();
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  std::printf("\n");
}

}  // namespace

int versionCommand() {
  std::printf("pgbr %s (pgBackRest %s repository format)\n", PGBR_VERSION, backup::kBackrestVersion);
  return 0;
}

int helpCommand(const std::vector<std::string>& arguments) {
  std::printf("pgbr %s - pgBackRest-compatible WAL archiving for repositories encrypted by a pgbrfs mount\n\n",
              PGBR_VERSION);
  if (arguments.empty()) {
    std::printf("Usage:\n    pgbr [options] COMMAND [arguments]\n\nCommands:\n");
    for (const CommandDef& command : commandTable())
      std::printf("    %-16s%.*s\n", std::string(command.name).c_str(), static_cast<int>(command.summary.size()),
                  command.summary.data());
    std::printf("\nUse 'pgbr help COMMAND' for a command's options, 'man pgbr' for the whole story.\n");
    return 0;
  }
  const CommandDef* command = findCommand(arguments.front());
  if (!command)
    throw backup::CommandError(backup::ErrorCode::CommandInvalid, "invalid command '" + arguments.front() + "'",
                               "run 'pgbr help' for the list of commands");
  std::printf("%s command - %.*s\n\nUsage:\n    pgbr [options] %s %s\n\n", std::string(command->name).c_str(),
              static_cast<int>(command->summary.size()), command->summary.data(), std::string(command->name).c_str(),
              std::string(command->arguments).c_str());
  if (!command->description.empty()) printWrapped(command->description, 0);
  std::printf("\nOptions:\n");
  for (const OptionDef& option : optionTable()) {
    if (!optionAppliesTo(option, command->name)) continue;
    std::string head = "--" + std::string(option.name);
    if (!option.argument.empty()) head += "=" + std::string(option.argument);
    std::printf("    %s\n", head.c_str());
    std::string text(option.summary);
    if (!option.defaultValue.empty()) text += " [default=" + std::string(option.defaultValue) + "]";
    printWrapped(text, 8);
  }
  std::printf("\nBooleans take --no-NAME; --reset-NAME ignores a value set in the configuration file.\n");
  return 0;
}

}  // namespace pgbr::tools
