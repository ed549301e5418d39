#include "tools/pgbr/command_context.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cmath>

#include "backup/pgbackrest_error.h"
#include "backup/repo_encryption.h"

namespace pgbr::tools {

using backup::CommandError;
using backup::ErrorCode;

namespace {

backup::PgBackRestConfig loadConfig(backup::CommandLineOptions commandLine) {
  backup::ConfigSources sources;
  sources.commandLine = std::move(commandLine);
  sources.environment = backup::processEnvironment();
  return backup::PgBackRestConfig::load(sources);
}

backup::LogLevel logLevel(const CommandContext& context, std::string_view option) {
  const std::string text = *context.value(option);
  const std::optional<backup::LogLevel> level = backup::parseLogLevel(text);
  if (!level)
    throw CommandError(ErrorCode::OptionInvalidValue, "'" + text + "' is not allowed for '" + std::string(option) +
                                                          "' option",
                       "use off, error, warn, info, detail, debug or trace");
  return *level;
}

}  // namespace

CommandContext::CommandContext(const CommandDef& command, std::vector<std::string> arguments,
                               backup::CommandLineOptions commandLine)
    : command_(command), arguments_(std::move(arguments)), config_(loadConfig(std::move(commandLine))) {
  stanza_ = config_.stanza();
  backup::CommandLogOptions options;
  options.console = logLevel(*this, "log-level-console");
  options.stderrLevel = logLevel(*this, "log-level-stderr");
  options.file = logLevel(*this, "log-level-file");
  options.filePath = *value("log-path") + "/" + stanza_.value_or("all") + "-" + std::string(command_.name) + ".log";
  const std::optional<std::string> problem = log_.open(options);
  if (problem) log_.warn(*problem);
  for (const std::string& warning : config_.warnings()) log_.warn(warning);
}

std::optional<std::string> CommandContext::value(std::string_view option) const {
  std::optional<std::string> result = config_.value(option, stanza_.value_or(""), command_.name);
  if (result) return result;
  const OptionDef* definition = findOption(option);
  if (definition && !definition->defaultValue.empty()) return std::string(definition->defaultValue);
  return std::nullopt;
}

std::vector<std::string> CommandContext::values(std::string_view option) const {
  return config_.values(option, stanza_.value_or(""), command_.name);
}

bool CommandContext::fromCommandLine(std::string_view option) const {
  const std::optional<backup::ValueOrigin> origin = config_.origin(option, stanza_.value_or(""), command_.name);
  return origin && origin->kind == backup::ConfigSourceKind::CommandLine;
}

bool CommandContext::jsonOutput() const {
  const std::string output = value("output").value_or("text");
  if (output != "text" && output != "json")
    throw backup::CommandError(backup::ErrorCode::OptionInvalidValue,
                               "'" + output + "' is not allowed for 'output' option", "use text or json");
  return output == "json";
}

backup::CommandLock CommandContext::lockBackups() const {
  std::optional<backup::CommandLock::Owner> owner;
  struct stat repo {};
  if (::geteuid() == 0 && ::stat(repoPath().c_str(), &repo) == 0)
    owner = backup::CommandLock::Owner{repo.st_uid, repo.st_gid};
  return backup::CommandLock::acquireBackup(*value("lock-path"), stanza(), owner);
}

backup::CompressType CommandContext::compressType() const {
  const std::string name = *value("compress-type");
  const std::optional<backup::CompressType> type = backup::parseCompressType(name);
  if (!type)
    throw CommandError(ErrorCode::OptionInvalidValue, "'" + name + "' is not allowed for 'compress-type' option",
                       "use none, gz, bz2, lz4 or zst");
  return *type;
}

std::optional<int> CommandContext::compressLevel(backup::CompressType type) const {
  const std::optional<long long> level = integer("compress-level");
  if (!level) return std::nullopt;
  if (*level < backup::compressLevelMin(type) || *level > backup::compressLevelMax(type))
    throw CommandError(ErrorCode::OptionInvalidValue,
                       "'" + std::to_string(*level) + "' is out of range for 'compress-level' option",
                       "compress-type " + std::string(backup::compressTypeName(type)) + " takes levels " +
                           std::to_string(backup::compressLevelMin(type)) + " to " +
                           std::to_string(backup::compressLevelMax(type)));
  return static_cast<int>(*level);
}

backup::PgConnectionOptions CommandContext::pgConnectionOptions(std::string applicationName) const {
  backup::PgConnectionOptions options;
  options.socketPath = value("pg1-socket-path");
  options.port = static_cast<unsigned>(*integer("pg1-port"));
  options.user = value("pg1-user");
  options.database = *value("pg1-database");
  options.applicationName = std::move(applicationName);
  return options;
}

std::string CommandContext::required(std::string_view option) const {
  std::optional<std::string> result = value(option);
  if (!result)
    throw CommandError(ErrorCode::OptionRequired,
                       std::string(command_.name) + " command requires option: " + std::string(option),
                       "set --" + std::string(option) + " on the command line, in the configuration file or as "
                       "PGBACKREST_" + [&] {
                         std::string env(option);
                         for (char& c : env) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
                         return env;
                       }());
  return *result;
}

bool CommandContext::flag(std::string_view option) const {
  const std::optional<bool> set = config_.boolValue(option, stanza_.value_or(""), command_.name);
  if (set) return *set;
  const OptionDef* definition = findOption(option);
  return definition && definition->defaultValue == "y";
}

std::optional<long long> CommandContext::integer(std::string_view option) const {
  const std::optional<std::string> text = value(option);
  if (!text) return std::nullopt;
  long long result = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), result);
  if (error != std::errc() || end != text->data() + text->size())
    throw CommandError(ErrorCode::OptionInvalidValue,
                       "'" + *text + "' is not valid for '" + std::string(option) + "' option", "give an integer");
  return result;
}

std::chrono::milliseconds CommandContext::duration(std::string_view option) const {
  const std::string text = *value(option);
  double seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc() || end != text.data() + text.size() || seconds < 0.1 || seconds > 86400)
    throw CommandError(ErrorCode::OptionInvalidValue,
                       "'" + text + "' is not valid for '" + std::string(option) + "' option",
                       "give seconds between 0.1 and 86400");
  return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000)));
}

crypto::CipherType CommandContext::repoCipherType() {
  const std::string configured = *value("repo1-cipher-type");
  const std::optional<crypto::CipherType> type = crypto::parseCipherType(configured);
  if (!type)
    throw CommandError(ErrorCode::OptionInvalidValue, "'" + configured + "' is not allowed for 'repo1-cipher-type' option",
                       "use none or aes-256-cbc");
  return backup::detectRepoCipherType(repoPath(), *type);
}

backup::PosixStorage& CommandContext::repo() {
  if (!repo_) repo_ = std::make_unique<backup::PosixStorage>(repoPath());
  return *repo_;
}

void CommandContext::logBegin() {
  if (!log_.enabled(backup::LogLevel::Info)) return;  // archive-push runs per segment: skip the work
  backup::LoggedOptions options;
  for (const OptionDef& option : optionTable()) {
    if (!optionAppliesTo(option, command_.name)) continue;
    if (!config_.origin(option.name, stanza_.value_or(""), command_.name)) continue;
    if (option.type == OptionType::Boolean) {
      if (flag(option.name)) options[std::string(option.name)] = "";
      else options[std::string(option.name)] = std::nullopt;
    } else if (option.list) {
      std::string joined;  // one entry per name in the begin line: the values comma-separated
      for (const std::string& item : values(option.name)) joined += (joined.empty() ? "" : ",") + item;
      options[std::string(option.name)] = joined;
    } else {
      options[std::string(option.name)] = *value(option.name);
    }
  }
  // Present in shared pgBackRest configurations; shown redacted as pgBackRest shows it, never read.
  if (config_.origin("repo1-cipher-pass", stanza_.value_or(""), command_.name))
    options["repo1-cipher-pass"] = "<redacted>";
  log_.info(backup::commandBeginMessage(command_.name, PGBR_VERSION, arguments_, options));
}

void CommandContext::logEnd(std::optional<int> errorCode) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
  log_.info(backup::commandEndMessage(command_.name, errorCode, elapsed.count()));
}

}  // namespace pgbr::tools
