// backup: thin wrapper over backup::runBackup (connects to the cluster with the pg1-* options, reports progress).
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "backup/backup_run.h"
#include "backup/compress_type.h"
#include "backup/expire.h"
#include "backup/pgbackrest_error.h"
#include "tools/pgbr/commands.h"

namespace pgbr::tools {

using backup::CommandError;
using backup::ErrorCode;

namespace {

std::string megabytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1fMB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

// "backup 42% (120.0MB of 286.3MB, 35.2MB/s)": on stderr when it is a terminal (rewritten in place), and in the
// log at info level every 10 seconds.
class ProgressReporter {
 public:
  explicit ProgressReporter(backup::CommandLog& log) : log_(log), terminal_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressReporter() {
    if (shown_) std::fputs("\n", stderr);
  }

  void update(std::uint64_t done, std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - started_).count();
    char line[160];
    std::snprintf(line, sizeof(line), "backup %3u%% (%s of %s, %s/s)",
                  static_cast<unsigned>(total == 0 ? 100 : done * 100 / total), megabytes(done).c_str(),
                  megabytes(total).c_str(),
                  megabytes(seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(done) / seconds) : 0).c_str());
    if (terminal_ && now - lastShown_ >= std::chrono::milliseconds(500)) {
      std::fprintf(stderr, "\r%s", line);
      std::fflush(stderr);
      shown_ = true;
      lastShown_ = now;
    }
    if (now - lastLogged_ >= std::chrono::seconds(10)) {
      log_.info(line);
      lastLogged_ = now;
    }
  }

 private:
  backup::CommandLog& log_;
  bool terminal_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point lastShown_{}, lastLogged_ = started_;
};

}  // namespace

int backupCommand(CommandContext& context) {
  backup::BackupOptions options;
  const std::string typeName = context.value("type").value_or("incr");
  const std::optional<backup::BackupType> type = backup::parseBackupType(typeName);
  if (!type)
    throw CommandError(ErrorCode::OptionInvalidValue, "'" + typeName + "' is not allowed for 'type' option",
                       "use full, diff or incr");
  options.type = *type;
  options.compressType = context.compressType();
  options.compressLevel = context.compressLevel(options.compressType);
  const long long processMax = *context.integer("process-max");
  if (processMax < 1 || processMax > 999)
    throw CommandError(ErrorCode::OptionInvalidValue,
                       "'" + std::to_string(processMax) + "' is out of range for 'process-max' option", "use 1 to 999");
  options.processMax = static_cast<unsigned>(processMax);
  options.pgPath = context.required("pg1-path");
  options.startFast = context.flag("start-fast");
  options.delta = context.flag("delta");
  options.archiveCheck = context.flag("archive-check");
  if (context.value("checksum-page")) options.checksumPage = context.flag("checksum-page");
  options.archiveTimeout = context.duration("archive-timeout");
  options.excludes = context.values("exclude");

  const std::string stanza = context.stanza();
  const backup::CommandLock lock = context.lockBackups();
  options.encrypted = context.repoCipherType() != crypto::CipherType::None;
  backup::PgConnection connection =
      backup::PgConnection::connect(context.pgConnectionOptions("pgBackRest [backup]"));

  backup::CommandLog& log = context.log();
  ProgressReporter progress(log);
  backup::BackupEvents events;
  events.warn = [&](const std::string& text) { log.warn(text); };
  events.info = [&](const std::string& text) { log.info(text); };
  events.detail = [&](const std::string& text) { log.detail(text); };
  events.progress = [&](std::uint64_t done, std::uint64_t total) { progress.update(done, total); };
  const backup::BackupResult result =
      backup::runBackup(connection, context.repo(), stanza, context.repoPath(), options, events);
  log.info("new backup label = " + result.label);
  log.info(std::string(backup::backupTypeName(result.type)) + " backup size = " + megabytes(result.size) +
           ", file total = " + std::to_string(result.fileCount) + ", copied = " + std::to_string(result.filesCopied) +
           ", repo size = " + megabytes(result.repoSizeDelta));
  // As pgBackRest: retention is applied after every successful backup unless --no-expire-auto.
  if (context.flag("expire-auto")) backup::expireStanza(context.repo(), stanza, retentionOptions(context), log);
  return 0;
}

}  // namespace pgbr::tools
