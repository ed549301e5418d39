// The daemon's log: stderr in the foreground, syslog when daemonized. Lines name the path and the reason, never
// file contents or keys. Repeated failures of one path are logged once per mount (a corrupt file read by `cp -r`
// would otherwise flood the log).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgbr::fs {

enum class LogLevel { Error = 0, Warn = 1, Info = 2, Detail = 3, Debug = 4 };

std::optional<LogLevel> parseLogLevel(std::string_view name);
void setLogLevel(LogLevel level);
LogLevel logLevel();
// Switches from stderr to syslog (ident "pgbrfs"), for a daemonized process.
void useSyslog();

void log(LogLevel level, std::string_view message);
// Logs `message` only the first time `path` fails with this `what` (returns whether it logged).
bool logOncePerPath(LogLevel level, const std::string& path, std::string_view what, std::string_view message);

}  // namespace pgbr::fs
