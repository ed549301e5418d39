#include "fs/log.h"

#include <syslog.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>
#include <utility>

namespace pgbr::fs {

namespace {

std::atomic<LogLevel> gLevel{LogLevel::Info};
std::atomic<bool> gSyslog{false};
std::mutex gOnceMutex;
std::set<std::pair<std::string, std::string>> gLoggedOnce;
constexpr std::size_t kMaxRemembered = 100000;  // bounded: past this, repeats may be logged again

const char* levelName(LogLevel level) {
  switch (level) {
    case LogLevel::Error: return "ERROR";
    case LogLevel::Warn: return "WARN";
    case LogLevel::Info: return "INFO";
    case LogLevel::Detail: return "DETAIL";
    case LogLevel::Debug: return "DEBUG";
  }
  return "INFO";
}

int syslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::Error: return LOG_ERR;
    case LogLevel::Warn: return LOG_WARNING;
    case LogLevel::Info: return LOG_INFO;
    default: return LOG_DEBUG;
  }
}

}  // namespace

std::optional<LogLevel> parseLogLevel(std::string_view name) {
  if (name == "error") return LogLevel::Error;
  if (name == "warn") return LogLevel::Warn;
  if (name == "info") return LogLevel::Info;
  if (name == "detail") return LogLevel::Detail;
  if (name == "debug") return LogLevel::Debug;
  return std::nullopt;
}

void setLogLevel(LogLevel level) { gLevel = level; }
LogLevel logLevel() { return gLevel; }

void useSyslog() {
  openlog("pgbrfs", LOG_PID, LOG_DAEMON);
  gSyslog = true;
}

void log(LogLevel level, std::string_view message) {
  if (level > gLevel.load()) return;
  const std::string text(message);
  if (gSyslog) {
    syslog(syslogPriority(level), "%s: %s", levelName(level), text.c_str());
    return;
  }
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
  std::fprintf(stderr, "%s pgbrfs %s: %s\n", stamp, levelName(level), text.c_str());
}

bool logOncePerPath(LogLevel level, const std::string& path, std::string_view what, std::string_view message) {
  {
    std::lock_guard lock(gOnceMutex);
    if (gLoggedOnce.size() >= kMaxRemembered) gLoggedOnce.clear();
    if (!gLoggedOnce.emplace(path, std::string(what)).second) return false;
  }
  log(level, message);
  return true;
}

}  // namespace pgbr::fs
