#include "backup/recovery_conf.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "backup/pgbackrest_error.h"
#include "backup/unique_fd.h"

namespace pgbr::backup {

namespace {

constexpr std::array<std::pair<std::string_view, RecoveryType>, 9> kTypes = {{
    {"default", RecoveryType::Default},
    {"immediate", RecoveryType::Immediate},
    {"lsn", RecoveryType::Lsn},
    {"name", RecoveryType::Name},
    {"none", RecoveryType::None},
    {"preserve", RecoveryType::Preserve},
    {"standby", RecoveryType::Standby},
    {"time", RecoveryType::Time},
    {"xid", RecoveryType::Xid},
}};

// Settings a restore owns: found in an existing postgresql.auto.conf they are commented out. restore_command is
// not among them (pgBackRest 2.45 leaves an earlier one in place; the generated one comes later and wins).
constexpr std::array<std::string_view, 9> kRecoveryOptions = {
    "recovery_target",      "recovery_target_action", "recovery_target_inclusive",
    "recovery_target_lsn",  "recovery_target_name",   "recovery_target_time",
    "recovery_target_timeline", "recovery_target_xid", "standby_mode"};

bool takesTarget(RecoveryType type) {
  return type == RecoveryType::Lsn || type == RecoveryType::Name || type == RecoveryType::Time ||
         type == RecoveryType::Xid;
}

// PostgreSQL's quoting for a configuration value.
std::string quoted(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string setting(std::string_view name, std::string_view value) {
  return std::string(name) + " = " + quoted(value) + "\n";
}

// The option name a postgresql.auto.conf line sets, or empty for comments and blank lines.
std::string_view lineOption(std::string_view line) {
  std::size_t begin = line.find_first_not_of(" \t");
  if (begin == std::string_view::npos || line[begin] == '#') return {};
  std::size_t end = begin;
  while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_')) ++end;
  return line.substr(begin, end - begin);
}

std::string localTime(std::time_t when) {
  std::tm tm{};
  localtime_r(&when, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

void writeFile(const std::filesystem::path& path, std::string_view content, uid_t uid, gid_t gid) {
  const std::string name = path.string();
  UniqueFd fd(::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  auto fail = [&](const char* what) {
    throw CommandError(ErrorCode::FileWrite,
                       std::string("unable to ") + what + " '" + name + "': [" + std::to_string(errno) + "] " +
                           std::strerror(errno),
                       "check that the data directory is writable and the file system is not full");
  };
  if (!fd) fail("open");
  for (std::size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write");
    done += static_cast<std::size_t>(n);
  }
  if (::geteuid() == 0 && ::fchown(fd.get(), uid, gid) != 0) fail("set the owner of");
  if (::fsync(fd.get()) != 0) fail("sync");
  if (fd.close() != 0) fail("close");
}

}  // namespace

std::optional<RecoveryType> parseRecoveryType(std::string_view name) {
  for (const auto& [text, type] : kTypes)
    if (text == name) return type;
  return std::nullopt;
}

std::string_view recoveryTypeName(RecoveryType type) {
  for (const auto& [text, value] : kTypes)
    if (value == type) return text;
  return "default";
}

void validateRecoverySettings(const RecoverySettings& settings) {
  const std::string type(recoveryTypeName(settings.type));
  if (takesTarget(settings.type) && !settings.target)
    throw CommandError(ErrorCode::OptionRequired, "type '" + type + "' requires option: target",
                       "give the recovery target with --target");
  if (!takesTarget(settings.type) && settings.target)
    throw CommandError(ErrorCode::OptionInvalid, "option 'target' not valid with type '" + type + "'",
                       "--target needs --type=time, xid, lsn or name");
  if (settings.targetExclusive && !takesTarget(settings.type))
    throw CommandError(ErrorCode::OptionInvalid, "option 'target-exclusive' not valid with type '" + type + "'",
                       "--target-exclusive needs --type=time, xid, lsn or name");
  if (settings.targetAction) {
    if (*settings.targetAction != "pause" && *settings.targetAction != "promote" &&
        *settings.targetAction != "shutdown")
      throw CommandError(ErrorCode::OptionInvalidValue,
                         "'" + *settings.targetAction + "' is not allowed for 'target-action' option",
                         "use pause, promote or shutdown");
    if (!takesTarget(settings.type) && settings.type != RecoveryType::Immediate)
      throw CommandError(ErrorCode::OptionInvalid, "option 'target-action' not valid with type '" + type + "'",
                         "--target-action needs --type=immediate, time, xid, lsn or name");
  }
}

std::string recoveryOptionLines(const RecoverySettings& settings) {
  if (settings.type == RecoveryType::None || settings.type == RecoveryType::Preserve) return {};
  std::string lines = setting("restore_command", settings.restoreCommand);
  switch (settings.type) {
    case RecoveryType::Immediate: lines += setting("recovery_target", "immediate"); break;
    case RecoveryType::Lsn: lines += setting("recovery_target_lsn", *settings.target); break;
    case RecoveryType::Name: lines += setting("recovery_target_name", *settings.target); break;
    case RecoveryType::Time: lines += setting("recovery_target_time", *settings.target); break;
    case RecoveryType::Xid: lines += setting("recovery_target_xid", *settings.target); break;
    default: break;
  }
  if (settings.targetExclusive) lines += setting("recovery_target_inclusive", "false");
  if (settings.targetAction && *settings.targetAction != "pause")
    lines += setting("recovery_target_action", *settings.targetAction);
  // PostgreSQL 12 and later follow the latest timeline by default; a backup's consistent point is on its own.
  if (settings.targetTimeline) lines += setting("recovery_target_timeline", *settings.targetTimeline);
  else if (settings.type == RecoveryType::Immediate) lines += setting("recovery_target_timeline", "current");
  return lines;
}

std::string renderAutoConf(std::string_view existing, const RecoverySettings& settings, std::time_t when) {
  if (settings.type == RecoveryType::Preserve) return std::string(existing);
  const std::string stamp = localTime(when);
  std::string out;
  while (!existing.empty()) {
    const std::size_t newline = existing.find('\n');
    const std::string_view line = existing.substr(0, newline);
    existing = newline == std::string_view::npos ? std::string_view() : existing.substr(newline + 1);
    const std::string_view option = lineOption(line);
    bool owned = false;
    for (std::string_view name : kRecoveryOptions) owned = owned || option == name;
    if (owned) out += "# Removed by pgBackRest restore on " + stamp + " # ";
    out += line;
    out += '\n';
  }
  if (settings.type != RecoveryType::None)
    out += "\n# Recovery settings generated by pgBackRest restore on " + stamp + "\n" + recoveryOptionLines(settings);
  return out;
}

void writeRecoverySettings(const std::filesystem::path& pgPath, const RecoverySettings& settings, std::time_t when) {
  if (settings.type == RecoveryType::Preserve) return;
  struct stat data {};
  if (::stat(pgPath.c_str(), &data) != 0)
    throw CommandError(ErrorCode::PathMissing, "unable to stat '" + pgPath.string() + "': " + std::strerror(errno));
  const std::filesystem::path autoConf = pgPath / "postgresql.auto.conf";
  std::string existing;
  if (std::ifstream in{autoConf, std::ios::binary}) {
    std::ostringstream text;
    text << in.rdbuf();
    existing = text.str();
  }
  writeFile(autoConf, renderAutoConf(existing, settings, when), data.st_uid, data.st_gid);
  writeFile(pgPath / (settings.type == RecoveryType::Standby ? "standby.signal" : "recovery.signal"), "",
            data.st_uid, data.st_gid);
}

}  // namespace pgbr::backup
