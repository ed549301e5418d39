#include "tools/pgbr/command_line.h"

#include <algorithm>

#include <boost/program_options.hpp>

#include "backup/pgbackrest_error.h"
#include "tools/pgbr/option_table.h"

namespace pgbr::tools {

namespace po = boost::program_options;
using backup::CommandError;
using backup::ErrorCode;

namespace {

// The command and its arguments: one positional list (a typed std::string value trips -Wnull-dereference inside
// Boost 1.74 with GCC 12).
constexpr const char* kArgumentKey = "pgbr-argument";

po::options_description describeOptions() {
  po::options_description description;
  for (const OptionDef& option : optionTable()) {
    const std::string name(option.name);
    if (option.type == OptionType::Boolean) {
      description.add_options()(name.c_str(), po::bool_switch());
      description.add_options()(("no-" + name).c_str(), po::bool_switch());
    } else {
      // A vector, so that giving an option twice is our error with our wording, not Boost's.
      description.add_options()(name.c_str(), po::value<std::vector<std::string>>());
    }
    description.add_options()(("reset-" + name).c_str(), po::bool_switch());
  }
  description.add_options()(kArgumentKey, po::value<std::vector<std::string>>());
  return description;
}

std::vector<std::string_view> optionNames() {
  std::vector<std::string_view> names;
  for (const OptionDef& option : optionTable()) names.push_back(option.name);
  return names;
}

std::vector<std::string_view> commandNames() {
  std::vector<std::string_view> names;
  for (const CommandDef& command : commandTable()) names.push_back(command.name);
  return names;
}

// "--repo1-path=/x" -> "repo1-path"; Boost reports unknown options with their dashes and value.
std::string bareOptionName(std::string token) {
  while (!token.empty() && token.front() == '-') token.erase(0, 1);
  if (const std::size_t equals = token.find('='); equals != std::string::npos) token.resize(equals);
  return token;
}

[[noreturn]] void unknownOption(const std::string& token) {
  const std::string name = bareOptionName(token);
  if (backup::isSecureOption(backup::canonicalOptionName(name)))
    throw CommandError(ErrorCode::OptionInvalid, "option '" + name + "' is not allowed on the command-line",
                       "pgbr never reads repository passphrases: mount the repository with pgbrfs, which holds the "
                       "passphrase, and point repo1-path at the mount");
  std::string hint = "run 'pgbr help COMMAND' for the options of a command";
  std::string stripped = name;
  for (const char* prefix : {"no-", "reset-"})
    if (stripped.starts_with(prefix)) stripped.erase(0, std::string_view(prefix).size());
  if (const std::string_view close = closestName(stripped, optionNames()); !close.empty())
    hint = "did you mean --" + std::string(close) + "?\n" + hint;
  throw CommandError(ErrorCode::OptionInvalid, "invalid option '--" + name + "'", hint);
}

}  // namespace

ParsedCommandLine parseCommandLine(int argc, const char* const argv[]) {
  const po::options_description description = describeOptions();
  po::positional_options_description positional;
  positional.add(kArgumentKey, -1);
  po::variables_map values;
  try {
    const int style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing &
                      ~po::command_line_style::allow_short;
    po::store(po::command_line_parser(argc, argv).options(description).positional(positional).style(style).run(),
              values);
  } catch (const po::unknown_option& e) {
    unknownOption(e.get_option_name());
  } catch (const po::invalid_command_line_syntax& e) {
    const std::string name = bareOptionName(e.get_option_name());
    if (e.kind() == po::invalid_syntax::missing_parameter)
      throw CommandError(ErrorCode::OptionInvalid, "option '" + name + "' requires an argument",
                         "give it as --" + name + "=VALUE");
    if (e.kind() == po::invalid_syntax::extra_parameter)
      throw CommandError(ErrorCode::OptionInvalid, "option '" + name + "' does not allow an argument",
                         "booleans are given as --" + name + " or --no-" + name);
    throw CommandError(ErrorCode::OptionInvalid, e.what());
  } catch (const po::error& e) {
    throw CommandError(ErrorCode::OptionInvalid, e.what());
  }

  ParsedCommandLine parsed;
  if (values.count(kArgumentKey)) parsed.arguments = values[kArgumentKey].as<std::vector<std::string>>();
  if (!parsed.arguments.empty()) {
    parsed.command = parsed.arguments.front();
    parsed.arguments.erase(parsed.arguments.begin());
  }
  const CommandDef* command = nullptr;
  if (!parsed.command.empty()) {
    command = findCommand(parsed.command);
    if (!command) {
      std::string hint = "run 'pgbr help' for the list of commands";
      if (const std::string_view close = closestName(parsed.command, commandNames()); !close.empty())
        hint = "did you mean '" + std::string(close) + "'?\n" + hint;
      throw CommandError(ErrorCode::CommandInvalid, "invalid command '" + parsed.command + "'", hint);
    }
  }

  for (const OptionDef& option : optionTable()) {
    const std::string name(option.name);
    std::vector<std::pair<std::string, std::string>> given;
    if (option.type == OptionType::Boolean) {
      if (values[name].as<bool>()) given.emplace_back(name, "");
      if (values["no-" + name].as<bool>()) given.emplace_back("no-" + name, "");
    } else if (values.count(name)) {
      const auto& list = values[name].as<std::vector<std::string>>();
      if (list.size() > 1 && !option.list)
        throw CommandError(ErrorCode::OptionInvalid, "option '" + name + "' cannot be set multiple times");
      for (const std::string& item : list) given.emplace_back(name, item);
    }
    if (values["reset-" + name].as<bool>()) given.emplace_back("reset-" + name, "");
    if (given.empty()) continue;
    const bool mixed = std::any_of(given.begin(), given.end(),
                                   [&](const auto& item) { return item.first != given.front().first; });
    if (mixed || (given.size() > 1 && !option.list))
      throw CommandError(ErrorCode::OptionInvalid,
                         "option '" + name + "' cannot be set and negated or reset at the same time");
    if (command && !optionAppliesTo(option, command->name))
      throw CommandError(ErrorCode::OptionInvalid,
                         "option '" + name + "' not valid for command '" + std::string(command->name) + "'",
                         "run 'pgbr help " + std::string(command->name) + "' for its options");
    for (const auto& item : given) parsed.options.emplace(item);
  }

  if (command && (parsed.arguments.size() < command->minArguments || parsed.arguments.size() > command->maxArguments))
    throw CommandError(parsed.arguments.size() < command->minArguments ? ErrorCode::ParamRequired : ErrorCode::ParamInvalid,
                       std::string(parsed.arguments.size() < command->minArguments ? "too few" : "too many") +
                           " arguments for command '" + parsed.command + "'",
                       "usage: pgbr [options] " + parsed.command +
                           (command->arguments.empty() ? "" : " " + std::string(command->arguments)));
  return parsed;
}

}  // namespace pgbr::tools
