// pgBackRest configuration as pgBackRest 2.45 reads it: the main file and conf.d/*.conf (with --config,
// --config-path, --config-include-path and --no-config), ini sections [global], [global:COMMAND], [STANZA] and
// [STANZA:COMMAND], PGBACKREST_* environment variables and command-line options, with pgBackRest's precedence.
// Values remember where they came from, for error messages. Secure options (repo1-cipher-pass, ...) are held as
// crypto::Secret, handed out only as one, and refused on the command line as pgBackRest refuses them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.h"

namespace pgbr::backup {

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

// A configuration that pgBackRest would refuse, or a file that cannot be read. what() is one line in pgBackRest's
// voice (lowercase, the file named in quotes); hint() is one line telling the user what to do, or empty.
// Messages never contain the value of a secure option, nor the text of a malformed line (it may hold one).
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& message, std::string hint = {})
      : std::runtime_error(message), hint_(std::move(hint)) {}
  const std::string& hint() const noexcept { return hint_; }
  // what() followed by "\nHINT: " + hint() when there is a hint: what a command-line tool prints.
  std::string describe() const;

 private:
  std::string hint_;
};

// ---------------------------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------------------------

// Options as given on the command line, without the leading "--", in the order given: {"stanza", "demo"},
// {"start-fast", ""}, {"no-online", ""}, {"reset-repo1-path", ""}, {"db-include", "a"}, {"db-include", "b"}.
// An empty value means "given without =value" (for a boolean: y).
using CommandLineOptions = std::multimap<std::string, std::string>;

// Environment variables by name ("PGBACKREST_REPO1_PATH" -> "/var/lib/pgbackrest"); names without the
// PGBACKREST_ prefix are ignored.
using EnvironmentVariables = std::map<std::string, std::string>;

// The PGBACKREST_* variables of this process. Their values are copies: the caller should let the result go
// (ConfigSources wipes its copies when destroyed) and, for secrets, scrub the process environment itself.
EnvironmentVariables processEnvironment();

// pgBackRest's compiled-in locations. Tests point these into a temporary directory; the daemon and the tools use
// the defaults.
struct ConfigDefaults {
  std::filesystem::path configPath = "/etc/pgbackrest";                // default of --config-path
  std::filesystem::path originalConfigFile = "/etc/pgbackrest.conf";   // pre-2.x location, tried as a fallback

  std::filesystem::path configFile() const { return configPath / "pgbackrest.conf"; }
  std::filesystem::path includePath() const { return configPath / "conf.d"; }
};

// Everything load() reads besides the files themselves. Values are wiped when this is destroyed.
struct ConfigSources {
  CommandLineOptions commandLine;
  EnvironmentVariables environment;
  ConfigDefaults defaults;

  ~ConfigSources();
};

// ---------------------------------------------------------------------------------------------------------------
// Where a value came from
// ---------------------------------------------------------------------------------------------------------------

enum class ConfigSourceKind { CommandLine, Environment, ConfigFile };

struct ValueOrigin {
  ConfigSourceKind kind = ConfigSourceKind::ConfigFile;
  std::string option;          // canonical name: "repo1-cipher-pass"
  std::string name;            // as written: "--repo1-path", "PGBACKREST_REPO1_PATH", "repo-cipher-pass" (deprecated)
  std::filesystem::path file;  // ConfigFile only
  std::string section;         // ConfigFile only: "global", "demo:backup"
  unsigned line = 0;           // ConfigFile only, 1-based within `file`

  // Where the value is, without the option: "/etc/pgbackrest/pgbackrest.conf", "environment variable
  // PGBACKREST_REPO1_PATH", "the command line (--repo1-path)".
  std::string where() const;
  // "option 'repo1-cipher-pass' from /etc/pgbackrest/pgbackrest.conf" (with ", section [demo], line 4"
  // appended for files). Never contains the value.
  std::string describe() const;
};

// ---------------------------------------------------------------------------------------------------------------
// Option names
// ---------------------------------------------------------------------------------------------------------------

// pgBackRest's canonical name for an option key: deprecated names map to their replacement ("repo-cipher-pass" ->
// "repo1-cipher-pass", "db2-path" -> "pg2-path", "retention-full" -> "repo1-retention-full"); other names are
// returned unchanged. Unknown names are accepted (this module does not carry pgBackRest's whole option list).
std::string canonicalOptionName(std::string_view key);

// True for options pgBackRest marks secure (never on the command line) and for any "*-cipher-pass".
bool isSecureOption(std::string_view option);

// ---------------------------------------------------------------------------------------------------------------
// The loaded configuration
// ---------------------------------------------------------------------------------------------------------------

// Immutable after load(); all const methods may be called concurrently. Cheap to move, not copyable.
//
// Precedence for a value, as pgBackRest resolves it (first found wins):
//   1. the command line (--OPTION=VALUE, --no-OPTION, --reset-OPTION: reset means "unset", files ignored)
//   2. the environment (PGBACKREST_OPTION, dashes as underscores, upper case; lists split on ':')
//   3. the files, by section: [STANZA:COMMAND], [STANZA], [global:COMMAND], [global]
// The stanza sections are searched only with a stanza (the argument, else --stanza / PGBACKREST_STANZA); the
// command sections only with a command.
//
// File syntax (pgBackRest's ini rules): each line is trimmed of spaces, tabs, CR and LF; blank lines and lines
// starting with '#' are skipped ('#' later in a line is part of the value); "[name]" opens a section (the name is
// not trimmed); "key=value" splits at the first '=', both sides trimmed; a key repeated in a section makes a list
// (an error unless the option is a list or hash option such as db-include or recovery-option). Files are loaded in
// this order: the main file, then *.conf in the include path sorted by name; a key set in two of them is set
// twice. Each file must open its own section.
//
// Which files are read (pgBackRest's rules, with D = ConfigDefaults::configPath):
//   - nothing given: D/pgbackrest.conf if it exists, else ConfigDefaults::originalConfigFile if it exists; plus
//     D/conf.d/*.conf if the directory exists;
//   - --config=F: F (required); no include directory unless --config-path or --config-include-path is also given;
//   - --config-path=P: P/pgbackrest.conf and P/conf.d/*.conf, both optional (no fallback to the old location);
//   - --config-include-path=I: I/*.conf, and I must exist; the main file as above, optional;
//   - --no-config: no main file; include files only if --config-path or --config-include-path is given.
// These three options may also come from the environment (PGBACKREST_CONFIG, ...), as in pgBackRest.
//
// Differences from pgBackRest, on purpose: unknown option names are accepted silently (pgBackRest warns; this
// module does not carry its whole option list); errors are raised when a value is read, for the sections read
// (pgBackRest raises them while parsing, for the command it runs); file warnings cover every section; the text of
// a malformed line is never echoed (pgBackRest echoes it, value and all).
class PgBackRestConfig {
 public:
  // Reads the files named by `sources`. Throws ConfigError for: a secure option or an invalid negate/reset on
  // the command line; an unreadable or malformed file (naming the file and line); a missing required file or
  // include directory. Problems pgBackRest only warns about become warnings().
  static PgBackRestConfig load(const ConfigSources& sources);

  PgBackRestConfig(PgBackRestConfig&&) noexcept;
  PgBackRestConfig& operator=(PgBackRestConfig&&) noexcept;
  ~PgBackRestConfig();

  // The value of a single-valued, non-secure option, or nullopt when it is not set (or reset). `option` may be
  // a deprecated name. Throws ConfigError when the option is set twice, set empty in a file or the environment,
  // or is a boolean given as something other than y/n; throws std::logic_error for a secure option (use
  // secret()) or a list option (use values()).
  std::optional<std::string> value(std::string_view option, std::string_view stanza = {},
                                   std::string_view command = {}) const;
  // All values of a list or hash option (empty when not set); for other options, zero or one value.
  std::vector<std::string> values(std::string_view option, std::string_view stanza = {},
                                  std::string_view command = {}) const;
  // A boolean option: true for "y", false for "n" or --no-OPTION, nullopt when not set (the caller knows the
  // default). Throws ConfigError("boolean option 'x' must be 'y' or 'n'") otherwise.
  std::optional<bool> boolValue(std::string_view option, std::string_view stanza = {},
                                std::string_view command = {}) const;
  // A secure option's value (any option may be read this way). The only way to read repo1-cipher-pass.
  std::optional<crypto::Secret> secret(std::string_view option, std::string_view stanza = {},
                                       std::string_view command = {}) const;
  // Where the value value()/values()/secret() would return comes from; nullopt when the option is not set.
  std::optional<ValueOrigin> origin(std::string_view option, std::string_view stanza = {},
                                    std::string_view command = {}) const;

  // --stanza / PGBACKREST_STANZA, the default stanza of the queries above.
  const std::optional<std::string>& stanza() const;
  // The files read, in order (main file first). Empty when none existed.
  const std::vector<std::filesystem::path>& files() const;
  // The main configuration file in effect (read or not): --config, else <config-path>/pgbackrest.conf; empty
  // with --no-config. For hints ("set repo1-cipher-pass in ...").
  const std::filesystem::path& mainFile() const;
  // Things pgBackRest would warn about, and files that hold a secret but can be read by others. Each is one
  // line, possibly followed by "\nHINT: ...". The caller prints them.
  const std::vector<std::string>& warnings() const;

  struct State;

 private:
  explicit PgBackRestConfig(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace pgbr::backup
