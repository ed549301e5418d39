#include "backup/command_log.h"

#include <sys/time.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace pgbr::backup {

namespace {

constexpr auto kLevelNames = std::to_array<std::string_view>({"off", "error", "warn", "info", "detail", "debug", "trace"});

std::string timestamp() {
  timeval now{};
  ::gettimeofday(&now, nullptr);
  std::tm local{};
  ::localtime_r(&now.tv_sec, &local);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &local);
  char millis[24];
  std::snprintf(millis, sizeof(millis), ".%03ld", static_cast<long>(now.tv_usec / 1000));
  return std::string(text) + millis;
}

}  // namespace

std::string_view logLevelName(LogLevel level) { return kLevelNames[static_cast<std::size_t>(level)]; }

std::optional<LogLevel> parseLogLevel(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i)
    if (kLevelNames[i] == name) return static_cast<LogLevel>(i);
  return std::nullopt;
}

std::string formatLogLine(LogLevel level, std::string_view message) {
  std::string upper(logLevelName(level));
  for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
  std::string line = "P00 ";
  line.append(upper.size() < 6 ? 6 - upper.size() : 0, ' ');
  line += upper;
  line += ": ";
  line += message;
  return line;
}

std::optional<std::string> CommandLog::open(const CommandLogOptions& options) {
  options_ = options;
  if (options_.file == LogLevel::Off) return std::nullopt;
  file_ = std::fopen(options_.filePath.c_str(), "ae");
  if (file_) return std::nullopt;
  const int error = errno;
  options_.file = LogLevel::Off;
  return "unable to open log file '" + options_.filePath + "': [" + std::to_string(error) + "] " +
         std::strerror(error) + "\nHINT: create log-path for this user, or set log-level-file=off";
}

CommandLog::~CommandLog() {
  if (file_) std::fclose(file_);
}

bool CommandLog::enabled(LogLevel level) const {
  return level != LogLevel::Off && (level <= options_.console || level <= options_.stderrLevel ||
                                    (file_ && level <= options_.file));
}

void CommandLog::log(LogLevel level, std::string_view message) {
  if (level == LogLevel::Off) return;
  const std::string line = formatLogLine(level, message);
  if (level <= options_.stderrLevel) {
    std::fprintf(stderr, "%s\n", line.c_str());
  } else if (level <= options_.console) {
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
  }
  if (file_ && level <= options_.file) {
    std::fprintf(file_, "%s %s\n", timestamp().c_str(), line.c_str());
    std::fflush(file_);
  }
}

std::string commandBeginMessage(std::string_view command, std::string_view version,
                                const std::vector<std::string>& arguments, const LoggedOptions& options) {
  std::string message = std::string(command) + " command begin " + std::string(version) + ":";
  if (!arguments.empty()) {
    message += " [";
    for (std::size_t i = 0; i < arguments.size(); ++i) message += (i ? ", " : "") + arguments[i];
    message += "]";
  }
  for (const auto& [name, value] : options) {
    if (!value) {
      message += " --no-" + name;
    } else if (value->empty()) {
      message += " --" + name;
    } else {
      const bool quote = value->find(' ') != std::string::npos;
      message += " --" + name + "=" + (quote ? "\"" + *value + "\"" : *value);
    }
  }
  return message;
}

std::string commandEndMessage(std::string_view command, std::optional<int> errorCode, long long milliseconds) {
  std::string message = std::string(command) + " command end: ";
  if (!errorCode) return message + "completed successfully (" + std::to_string(milliseconds) + "ms)";
  char code[16];
  std::snprintf(code, sizeof(code), "%03d", *errorCode);
  return message + "aborted with exception [" + code + "]";
}

}  // namespace pgbr::backup
