#include "tools/pgbr/option_table.h"

#include <algorithm>
#include <array>

namespace pgbr::tools {

namespace {

constexpr std::string_view kArchiveGet = "archive-get", kArchivePush = "archive-push", kBackup = "backup",
                           kCheck = "check", kExpire = "expire", kInfo = "info", kRestore = "restore",
                           kStanzaCreate = "stanza-create", kVerify = "verify";

// Sorted by name, as `pgbr help` lists them.
const std::vector<OptionDef> kOptions = {
    {"archive-check", OptionType::Boolean, "y", "", {kBackup},
     "wait until the WAL segments the backup needs are in the archive"},
    {"archive-header-check", OptionType::Boolean, "y", "", {kArchivePush},
     "check that the WAL page header matches the stanza's PostgreSQL version and system identifier"},
    {"archive-timeout", OptionType::Seconds, "60", "SECONDS", {kBackup, kCheck},
     "how long to wait for a WAL segment to reach the archive"},
    {"checksum-page", OptionType::Boolean, "", "", {kBackup},
     "validate data page checksums while copying relation files (default: when the cluster has data checksums)"},
    {"compress-level", OptionType::Integer, "", "LEVEL", {kArchivePush, kBackup},
     "compression level (default per type: gz 6, bz2 9, lz4 1, zst 3)"},
    {"compress-type", OptionType::String, "gz", "TYPE", {kArchivePush, kBackup},
     "compression of archived WAL segments and backup files: none, gz, bz2, lz4 or zst"},
    {"config", OptionType::String, "/etc/pgbackrest/pgbackrest.conf", "FILE", {},
     "pgBackRest configuration file"},
    {"config-include-path", OptionType::String, "/etc/pgbackrest/conf.d", "PATH", {},
     "directory of additional *.conf files"},
    {"config-path", OptionType::String, "/etc/pgbackrest", "PATH", {},
     "base directory of pgbackrest.conf and conf.d/"},
    {"delta", OptionType::Boolean, "n", "", {kBackup, kRestore},
     "backup: decide which files changed since the prior backup by checksum instead of size and timestamp; "
     "restore: restore over an existing data directory, keeping files whose size and SHA-1 match and removing "
     "what the backup lacks"},
    {"dry-run", OptionType::Boolean, "n", "", {kExpire}, "log what expire would remove without removing anything"},
    {"exclude", OptionType::String, "", "PATH", {kBackup},
     "leave PATH (relative to the data directory) out of the backup; PATH/ leaves out its contents only; repeatable",
     true},
    {"expire-auto", OptionType::Boolean, "y", "", {kBackup},
     "apply the repo1-retention-* options after a successful backup (as expire does)"},
    {"force", OptionType::Boolean, "n", "", {kRestore}, "restore into a directory that is not empty (as --delta)"},
    {"link-all", OptionType::Boolean, "n", "", {kRestore}, "restore every symlink of the backup, not only tablespaces"},
    {"link-map", OptionType::String, "", "LINK=PATH", {kRestore},
     "restore the symlink LINK (relative to the data directory) pointing at PATH; may be repeated", true},
    {"log-level-console", OptionType::LogLevel, "warn", "LEVEL", {},
     "messages written to stdout: off, error, warn, info, detail, debug or trace"},
    {"log-level-file", OptionType::LogLevel, "off", "LEVEL", {},
     "messages written to the log file under log-path (off by default in pgbr)"},
    {"log-level-stderr", OptionType::LogLevel, "warn", "LEVEL", {},
     "messages written to stderr instead of stdout"},
    {"lock-path", OptionType::String, "/tmp/pgbackrest", "PATH", {kBackup, kExpire, kStanzaCreate},
     "directory of the lock files (shared with pgBackRest: one backup, expire or stanza-create per stanza at a time)"},
    {"log-path", OptionType::String, "/var/log/pgbackrest", "PATH", {},
     "directory of the log files <stanza>-<command>.log"},
    {"output", OptionType::String, "text", "FORMAT", {kInfo, kVerify}, "output format: text or json"},
    {"pg1-database", OptionType::String, "postgres", "NAME", {kBackup, kCheck}, "database to connect to"},
    {"pg1-path", OptionType::String, "", "PATH",
     {kArchiveGet, kArchivePush, kBackup, kCheck, kStanzaCreate, kInfo, kRestore},
     "data directory of the cluster (its pg_control identifies the cluster)"},
    {"pg1-port", OptionType::Integer, "5432", "PORT", {kBackup, kCheck}, "port of the cluster"},
    {"pg1-socket-path", OptionType::String, "", "PATH", {kBackup, kCheck},
     "directory of the cluster's unix socket (libpq's default when unset)"},
    {"pg1-user", OptionType::String, "", "USER", {kBackup, kCheck}, "user to connect as (libpq's default when unset)"},
    {"process-max", OptionType::Integer, "1", "COUNT", {kBackup, kRestore}, "threads copying or restoring files"},
    {"repo1-cipher-type", OptionType::String, "none", "TYPE",
     {kArchiveGet, kArchivePush, kBackup, kCheck, kExpire, kStanzaCreate, kInfo, kRestore, kVerify},
     "none or aes-256-cbc; with aes-256-cbc repo1-path must be an encrypted pgbrfs mount"},
    {"repo1-path", OptionType::String, "/var/lib/pgbackrest", "PATH",
     {kArchiveGet, kArchivePush, kBackup, kCheck, kExpire, kStanzaCreate, kInfo, kRestore, kVerify},
     "path of the repository (the pgbrfs mount point)"},
    {"repo1-retention-archive", OptionType::Integer, "", "COUNT", {kBackup, kExpire},
     "backups (of repo1-retention-archive-type) whose WAL is kept for point-in-time recovery"},
    {"repo1-retention-archive-type", OptionType::String, "full", "TYPE", {kBackup, kExpire},
     "backup type counted by repo1-retention-archive: full, diff or incr"},
    {"repo1-retention-diff", OptionType::Integer, "", "COUNT", {kBackup, kExpire}, "differential backups to keep"},
    {"repo1-retention-full", OptionType::Integer, "", "COUNT", {kBackup, kExpire},
     "full backups to keep (days with repo1-retention-full-type=time)"},
    {"repo1-retention-full-type", OptionType::String, "count", "TYPE", {kBackup, kExpire},
     "count or time: how repo1-retention-full is counted"},
    {"repo1-retention-history", OptionType::Integer, "", "DAYS", {kBackup, kExpire},
     "days to keep backup.history manifests of expired backups (unset: forever)"},
    {"set", OptionType::String, "", "LABEL", {kExpire, kInfo, kRestore},
     "info: backup to show in detail; restore: backup set to restore (default: the newest); expire: backup to "
     "expire (with the backups that depend on it)"},
    {"stanza", OptionType::String, "", "NAME",
     {kArchiveGet, kArchivePush, kBackup, kCheck, kExpire, kStanzaCreate, kInfo, kRestore, kVerify},
     "name of the stanza"},
    {"start-fast", OptionType::Boolean, "n", "", {kBackup},
     "request an immediate checkpoint so that the backup starts at once"},
    {"tablespace-map", OptionType::String, "", "NAME=PATH", {kRestore},
     "restore tablespace NAME (or oid) to PATH instead of its recorded path; may be repeated", true},
    {"tablespace-map-all", OptionType::String, "", "PATH", {kRestore}, "restore every tablespace to PATH/<name>"},
    {"target", OptionType::String, "", "TARGET", {kRestore}, "recovery target: a time, xid, LSN or restore point name"},
    {"target-action", OptionType::String, "", "ACTION", {kRestore},
     "what PostgreSQL does at the target: pause (its default), promote or shutdown"},
    {"target-exclusive", OptionType::Boolean, "n", "", {kRestore}, "stop just before the target instead of after it"},
    {"target-timeline", OptionType::String, "", "TIMELINE", {kRestore},
     "timeline to recover along: current, latest or a number"},
    // One name, two meanings (as in pgBackRest); each command applies its own default.
    {"type", OptionType::String, "", "TYPE", {kBackup, kRestore},
     "backup: full, diff or incr (default incr); restore: default, immediate, time, xid, lsn, name, standby, none "
     "or preserve (default default)"},
};

const std::vector<CommandDef> kCommands = {
    {kArchiveGet, "WAL_NAME DEST_PATH", 2, 2, true, true, "get a WAL file from the archive (restore_command)",
     "Copies WAL_NAME (a segment, partial, .history or .backup file name, %f in restore_command) from the "
     "archive to DEST_PATH (%p), searching the archive ids of the cluster newest first, decompressing and checking "
     "the SHA-1 the stored name carries. Exits 1 with \"unable to find WAL_NAME in the archive\" when the archive "
     "does not have it."},
    {kArchivePush, "WAL_PATH", 1, 1, true, true, "push a WAL file to the archive (archive_command)",
     "Stores the WAL file WAL_PATH (%p in archive_command) in the archive as pgBackRest 2.45 does: segments "
     "compressed and named <segment>-<sha1>.<ext> under <archive id>/<first 16 hex>/, .history and .backup files "
     "as they are. The WAL page header must match the stanza. A segment already archived with the same checksum "
     "is accepted with a warning; with a different checksum it is an error and nothing is written."},
    {kBackup, "", 0, 0, true, true, "back up the cluster into the repository (full, diff or incr)",
     "Takes an online backup of the PostgreSQL 15 cluster at pg1-path through a non-exclusive pg_backup_start/"
     "pg_backup_stop, stored as pgBackRest 2.45 stores it: every file of the data directory and its tablespaces "
     "(minus what pgBackRest leaves out and --exclude) compressed under backup/<stanza>/<label>/, the manifest, its "
     "backup.history copy, the latest link and backup.info. diff and incr store only files whose size or timestamp "
     "changed since the prior backup (by checksum with --delta) and reference the rest; with no prior backup they "
     "become full. The backup waits until its WAL is in the archive (archive-check). In an encrypted repository "
     "(a pgbrfs mount) each full backup gets a new manifest sub-passphrase. Then the repo1-retention-* options are "
     "applied, as by expire (--no-expire-auto skips it)."},
    {kCheck, "", 0, 0, true, true, "check that the stanza matches the cluster and WAL reaches the archive",
     "Compares the cluster (through libpq) with archive.info and backup.info, forces a WAL segment switch and "
     "waits up to archive-timeout for that segment to appear in the archive."},
    {kExpire, "", 0, 0, true, true, "remove backups and WAL beyond the retention options",
     "Applies repo1-retention-full (a count, or days with repo1-retention-full-type=time), repo1-retention-diff and "
     "repo1-retention-archive (with repo1-retention-archive-type full, diff or incr) as pgBackRest 2.45 does: a "
     "backup is expired together with every backup that depends on it, backup.info (and its copy) is rewritten, the "
     "backup directories are removed, and WAL is removed except what each remaining backup needs to be consistent "
     "and, from the oldest backup within archive retention on, everything. --set expires one backup and its "
     "dependents (never the only full backup). backup.history is kept unless repo1-retention-history is set. "
     "--dry-run only logs."},
    {"help", "[COMMAND]", 0, 1, false, false, "show help for pgbr or a command", ""},
    {kInfo, "", 0, 0, false, true, "show the repository's stanzas, WAL archive and backups",
     "Prints what pgBackRest 2.45's info command prints, in the same text and --output=json shapes (so monitoring "
     "that parses pgbackrest info keeps working): each stanza's status and cipher, its clusters, the WAL archive's "
     "oldest and newest segment per archive id, and every backup with its type, times, LSNs, WAL range, sizes and "
     "references. --stanza limits it to one stanza; --set shows one backup in detail. The backup lock is always "
     "reported as not held: pgBackRest's locks live on the host that runs it."},
    {kRestore, "", 0, 0, true, true, "restore a backup set into the data directory",
     "Restores the backup set --set (default: the newest) into pg1-path, which must be empty unless --delta is "
     "given, and its tablespaces to their recorded paths or --tablespace-map. Every file is read from the backup "
     "that holds it, decompressed and checked against the manifest's size and SHA-1; modes, owners (as root), "
     "times and links follow the manifest. Then postgresql.auto.conf gets restore_command (pgbr archive-get) and "
     "the recovery target of --type, and recovery.signal (standby.signal for --type=standby) is created. Bundled "
     "backups are restored from unencrypted repositories only: through an encrypted mount a bundle is not readable."},
    {kStanzaCreate, "", 0, 0, true, true, "create the stanza's archive.info and backup.info",
     "Reads the cluster's version, system identifier, control and catalog versions from pg1-path and writes "
     "archive.info and backup.info (and their .copy) as pgBackRest 2.45 does; in an encrypted repository (a pgbrfs "
     "mount) with new random archive and backup sub-passphrases. Running it again on a stanza that matches the "
     "cluster succeeds and restores a missing .copy."},
    {kVerify, "", 0, 0, true, true, "re-read and check every WAL segment and backup file",
     "Reads every archived WAL segment and every file of every backup, decompresses it and checks its SHA-1 and "
     "size against its name (WAL) or its manifest (backup files); also the info files, the manifests and the WAL "
     "each backup needs. Prints a summary (text, or --output=json) naming every file that failed and exits non-zero "
     "when anything failed (pgBackRest 2.45's verify exits 0). Bundled files cannot be read through an encrypted "
     "pgbrfs mount: they are reported as skipped, not as errors."},
    {"version", "", 0, 0, false, false, "print the pgbr version", ""},
};

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::span<const OptionDef> optionTable() { return kOptions; }
std::span<const CommandDef> commandTable() { return kCommands; }

const OptionDef* findOption(std::string_view name) {
  for (const OptionDef& option : kOptions)
    if (option.name == name) return &option;
  return nullptr;
}

const CommandDef* findCommand(std::string_view name) {
  for (const CommandDef& command : kCommands)
    if (command.name == name) return &command;
  return nullptr;
}

bool optionAppliesTo(const OptionDef& option, std::string_view command) {
  return option.commands.empty() ||
         std::find(option.commands.begin(), option.commands.end(), command) != option.commands.end();
}

std::string_view closestName(std::string_view name, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t bestDistance = 4;
  for (std::string_view candidate : candidates) {
    const std::size_t distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

}  // namespace pgbr::tools
