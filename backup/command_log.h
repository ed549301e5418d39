// Logging of the pgbr commands in pgBackRest's style: "P00   INFO: message" on the console, the same with a
// timestamp in an optional log file (<log-path>/<stanza>-<command>.log), levels off/error/warn/info/detail/debug/
// trace, and the "command begin"/"command end" lines listing the options in effect with secrets redacted.
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::backup {

enum class LogLevel { Off, Error, Warn, Info, Detail, Debug, Trace };

std::string_view logLevelName(LogLevel level);  // "info"
// Parses an option value ("warn"); nullopt for anything else.
std::optional<LogLevel> parseLogLevel(std::string_view name);

// "P00   INFO: " + message; continuation lines of `message` are printed as they are.
std::string formatLogLine(LogLevel level, std::string_view message);

struct CommandLogOptions {
  LogLevel console = LogLevel::Warn;  // log-level-console: to stdout
  LogLevel stderrLevel = LogLevel::Warn;  // log-level-stderr: these and worse go to stderr instead of stdout
  LogLevel file = LogLevel::Off;      // log-level-file
  std::string filePath;               // used when `file` is not Off
};

// Not thread-safe (the commands are single-threaded).
class CommandLog {
 public:
  CommandLog() = default;
  // Opens the log file (append) when enabled. Returns a warning text when it cannot (logging to the file is then
  // off): a missing log directory must not stop archive-push.
  std::optional<std::string> open(const CommandLogOptions& options);
  ~CommandLog();
  CommandLog(const CommandLog&) = delete;
  CommandLog& operator=(const CommandLog&) = delete;

  bool enabled(LogLevel level) const;
  void log(LogLevel level, std::string_view message);
  void error(std::string_view message) { log(LogLevel::Error, message); }
  void warn(std::string_view message) { log(LogLevel::Warn, message); }
  void info(std::string_view message) { log(LogLevel::Info, message); }
  void detail(std::string_view message) { log(LogLevel::Detail, message); }

 private:
  CommandLogOptions options_;
  std::FILE* file_ = nullptr;
};

// Options for the begin line: canonical name -> value as given; secure options are listed with the value
// "<redacted>" by the caller. An empty optional value means a negated boolean (--no-NAME).
using LoggedOptions = std::map<std::string, std::optional<std::string>>;

// "archive-push command begin 0.1.0: [ARG...] --opt=value --no-flag --flag ..." (options sorted by name; values
// with spaces quoted as pgBackRest does).
std::string commandBeginMessage(std::string_view command, std::string_view version,
                                const std::vector<std::string>& arguments, const LoggedOptions& options);
// "archive-push command end: completed successfully (12ms)" or "... end: aborted with exception [045]".
std::string commandEndMessage(std::string_view command, std::optional<int> errorCode, long long milliseconds);

}  // namespace pgbr::backup
