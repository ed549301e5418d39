// The commands and options pgbr knows, with pgBackRest's names, defaults and help texts: one table that drives
// command-line parsing, validation per command, `pgbr help` and the options listed in "command begin" lines.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace pgbr::tools {

enum class OptionType { String, Boolean, Integer, Seconds, LogLevel };

struct OptionDef {
  std::string_view name;          // "repo1-path"
  OptionType type;
  std::string_view defaultValue;  // "" when there is none
  std::string_view argument;      // "PATH" in help; empty for booleans
  // Commands the option applies to; empty = every command. Given for another command it is an error.
  std::vector<std::string_view> commands;
  std::string_view summary;       // one line for `pgbr help COMMAND`
  bool list = false;              // may be given several times (exclude); read with CommandContext::values()
};

struct CommandDef {
  std::string_view name;          // "archive-push"
  std::string_view arguments;     // "WAL_PATH" for help
  unsigned minArguments;
  unsigned maxArguments;
  bool needsStanza;
  bool needsRepo;                 // reads or writes the repository: the encryption check runs first
  std::string_view summary;
  std::string_view description;   // a paragraph for `pgbr help COMMAND`
};

std::span<const OptionDef> optionTable();
std::span<const CommandDef> commandTable();

const OptionDef* findOption(std::string_view name);
const CommandDef* findCommand(std::string_view name);
bool optionAppliesTo(const OptionDef& option, std::string_view command);

// The known name closest to `name` (edit distance at most 3), for "did you mean" hints; empty when none is close.
std::string_view closestName(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace pgbr::tools
