// What every pgbr command starts from: the configuration loaded with pgBackRest's precedence (command line >
// environment > [STANZA:COMMAND] > [STANZA] > [global:COMMAND] > [global]), typed option values with pgbr's
// defaults, the log, and the repository (its path, whether it is an encrypted pgbrfs mount, storage on it).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backup/command_lock.h"
#include "backup/command_log.h"
#include "backup/compress_type.h"
#include "backup/pg_connection.h"
#include "backup/pgbackrest_config.h"
#include "backup/posix_storage.h"
#include "crypto/cipher_spec.h"
#include "tools/pgbr/option_table.h"

namespace pgbr::tools {

class CommandContext {
 public:
  // Loads the configuration (throws backup::ConfigError) and opens the log.
  CommandContext(const CommandDef& command, std::vector<std::string> arguments,
                 backup::CommandLineOptions commandLine);

  const CommandDef& command() const { return command_; }
  const std::vector<std::string>& arguments() const { return arguments_; }
  backup::CommandLog& log() { return log_; }

  // The value in effect, else the table's default; nullopt when neither. Throws backup::ConfigError.
  std::optional<std::string> value(std::string_view option) const;
  // True when the option was given on the command line (restore repeats those in restore_command).
  bool fromCommandLine(std::string_view option) const;
  // As value(), but an error (OptionRequired) when unset.
  std::string required(std::string_view option) const;
  // Every value of a list option (OptionDef::list: exclude, tablespace-map, link-map), empty when unset.
  std::vector<std::string> values(std::string_view option) const;
  bool flag(std::string_view option) const;
  // Integer options; throws CommandError(OptionInvalidValue) for text that is not one.
  std::optional<long long> integer(std::string_view option) const;
  // archive-timeout style options: seconds with up to 3 decimals.
  std::chrono::milliseconds duration(std::string_view option) const;
  std::string stanza() const { return required("stanza"); }
  // --output: true for json, false for text (the default); anything else is CommandError(OptionInvalidValue).
  bool jsonOutput() const;
  // The stanza's backup lock (lock-path), shared with pgBackRest: held by backup, expire and stanza-create.
  backup::CommandLock lockBackups() const;
  // compress-type, and compress-level checked against it (nullopt: the type's default). Throw
  // CommandError(OptionInvalidValue).
  backup::CompressType compressType() const;
  std::optional<int> compressLevel(backup::CompressType type) const;
  // How to reach the cluster: pg1-socket-path, pg1-port, pg1-user, pg1-database.
  backup::PgConnectionOptions pgConnectionOptions(std::string applicationName) const;

  // repo1-path, checked against repo1-cipher-type (backup::detectRepoCipherType): the cipher type the repository
  // really has. Throws CommandError when aes-256-cbc is configured but repo1-path is not an encrypted mount.
  crypto::CipherType repoCipherType();
  // Storage on repo1-path (opened once). Call repoCipherType() first: it refuses repositories pgbr must not touch.
  backup::PosixStorage& repo();
  std::string repoPath() const { return *value("repo1-path"); }

  // Logs "COMMAND command begin VERSION: [args] --options" at info level.
  void logBegin();
  // Logs the end line; `errorCode` for an abort.
  void logEnd(std::optional<int> errorCode);

 private:
  const CommandDef& command_;
  std::vector<std::string> arguments_;
  backup::PgBackRestConfig config_;
  std::optional<std::string> stanza_;
  backup::CommandLog log_;
  std::unique_ptr<backup::PosixStorage> repo_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace pgbr::tools
