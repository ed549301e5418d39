#include "backup/pgbackrest_config.h"

#include "backup/unique_fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

extern char** environ;  // POSIX; declared here so no feature macro is needed

namespace pgbr::backup {

namespace fs = std::filesystem;
using crypto::Secret;

// ---------------------------------------------------------------------------------------------------------------
// Option knowledge. pgBackRest 2.45's option table (src/build/config/config.yaml) reduced to what loading needs:
// types that change parsing (boolean, list/hash), secure options, command-line-only and stanza-only options, and
// deprecated names. Names are base names: group options without their index ("repo-cipher-pass" stands for
// repoN-cipher-pass).
// ---------------------------------------------------------------------------------------------------------------
namespace {

constexpr std::string_view kEnvPrefix = "PGBACKREST_";
constexpr unsigned kGroupIndexMax = 256;  // repo1..repo256, pg1..pg256

constexpr auto kBooleanOptions = std::to_array<std::string_view>({
    "archive-async",     "archive-check",        "archive-copy",   "archive-header-check",
    "archive-missing-retry", "archive-mode-check", "backup-standby", "beta",
    "checksum-page",     "compress",             "delta",          "dry-run",
    "expire-auto",       "force",                "ignore-missing", "link-all",
    "log-subprocess",    "log-timestamp",        "neutral-umask",  "online",
    "page-header-check", "pg-local",             "raw",            "recurse",
    "report",            "repo-block",           "repo-bundle",    "repo-hardlink",
    "repo-local",        "repo-storage-verify-tls", "resume",      "sck-block",
    "sck-keep-alive",    "start-fast",           "stop-auto",      "target-exclusive",
    "verbose",
});

// type: list or type: hash. Repeated keys in a file, repeated options on the command line and ':'-separated
// environment values make lists only for these.
constexpr auto kMultiOptions = std::to_array<std::string_view>({
    "annotation",         "db-exclude",        "db-include",          "exclude",
    "link-map",           "recovery-option",   "repo-block-age-map",  "repo-block-checksum-size-map",
    "repo-block-size-map", "repo-sftp-known-host", "repo-storage-tag", "tablespace-map",
    "tls-server-auth",
});

constexpr auto kSecureOptions = std::to_array<std::string_view>({
    "repo-azure-account", "repo-azure-key",         "repo-cipher-pass",
    "repo-gcs-key",       "repo-s3-key",            "repo-s3-key-secret",
    "repo-s3-sse-customer-key", "repo-s3-token",    "repo-sftp-private-key-passphrase",
});

// Options without a config-file section: pgBackRest warns about and ignores them in files.
constexpr auto kCommandLineOnlyOptions = std::to_array<std::string_view>({
    "cipher-pass", "config",   "config-include-path", "config-path", "dry-run",   "exec-id",
    "filter",      "force",    "ignore-missing",      "online",      "output",    "pg",
    "process",     "raw",      "recurse",             "reference",   "remote-type", "repo",
    "report",      "set",      "sort",                "stanza",      "target",    "target-action",
    "target-exclusive", "target-timeline", "type",
});

// section: stanza. pgBackRest warns about and ignores them in [global] and [global:COMMAND].
constexpr auto kStanzaOnlyOptions = std::to_array<std::string_view>({
    "pg-database",  "pg-host",   "pg-host-cmd", "pg-host-config", "pg-host-config-include-path",
    "pg-host-config-path", "pg-host-port", "pg-host-user", "pg-local", "pg-path",
    "pg-port",      "pg-socket-path", "pg-user", "pg-version-force",
});

// Deprecated names without an index: they mean index 1 of the new name.
constexpr auto kDeprecatedNames = std::to_array<std::pair<std::string_view, std::string_view>>({
    {"archive-queue-max", "archive-push-queue-max"},
    {"backup-cmd", "repo1-host-cmd"},
    {"backup-config", "repo1-host-config"},
    {"backup-host", "repo1-host"},
    {"backup-ssh-port", "repo1-host-port"},
    {"backup-user", "repo1-host-user"},
    {"hardlink", "repo1-hardlink"},
    {"repo-cipher-pass", "repo1-cipher-pass"},
    {"repo-cipher-type", "repo1-cipher-type"},
    {"repo-path", "repo1-path"},
    {"repo-s3-bucket", "repo1-s3-bucket"},
    {"repo-s3-ca-file", "repo1-storage-ca-file"},
    {"repo-s3-ca-path", "repo1-storage-ca-path"},
    {"repo-s3-endpoint", "repo1-s3-endpoint"},
    {"repo-s3-host", "repo1-storage-host"},
    {"repo-s3-key", "repo1-s3-key"},
    {"repo-s3-key-secret", "repo1-s3-key-secret"},
    {"repo-s3-region", "repo1-s3-region"},
    {"repo-s3-verify-ssl", "repo1-storage-verify-tls"},
    {"repo-type", "repo1-type"},
    {"retention-archive", "repo1-retention-archive"},
    {"retention-archive-type", "repo1-retention-archive-type"},
    {"retention-diff", "repo1-retention-diff"},
    {"retention-full", "repo1-retention-full"},
});

// Deprecated names of indexed repo options: repoN-<old> means repoN-<new>.
constexpr auto kDeprecatedRepoSuffixes = std::to_array<std::pair<std::string_view, std::string_view>>({
    {"azure-ca-file", "storage-ca-file"},
    {"azure-ca-path", "storage-ca-path"},
    {"azure-host", "storage-host"},
    {"azure-port", "storage-port"},
    {"azure-verify-tls", "storage-verify-tls"},
    {"s3-ca-file", "storage-ca-file"},
    {"s3-ca-path", "storage-ca-path"},
    {"s3-host", "storage-host"},
    {"s3-port", "storage-port"},
    {"s3-verify-ssl", "storage-verify-tls"},
    {"s3-verify-tls", "storage-verify-tls"},
});

// db-<old> and dbN-<old> mean pg1-<new> and pgN-<new>.
constexpr auto kDeprecatedDbSuffixes = std::to_array<std::pair<std::string_view, std::string_view>>({
    {"cmd", "host-cmd"},
    {"config", "host-config"},
    {"host", "host"},
    {"path", "path"},
    {"port", "port"},
    {"socket-path", "socket-path"},
    {"ssh-port", "host-port"},
    {"user", "host-user"},
});

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

template <std::size_t N>
std::optional<std::string_view> lookup(const std::array<std::pair<std::string_view, std::string_view>, N>& table,
                                       std::string_view name) {
  for (const auto& [from, to] : table)
    if (from == name) return to;
  return std::nullopt;
}

// "repo12-path" -> {"repo", 12, "path"}; nullopt when `key` is not <group><1..256>-<rest>.
struct IndexedName {
  std::string_view group;
  unsigned index;
  std::string_view rest;
};
std::optional<IndexedName> splitIndexed(std::string_view key, std::string_view group) {
  if (key.size() <= group.size() || key.substr(0, group.size()) != group) return std::nullopt;
  const std::size_t digits = group.size();
  std::size_t dash = digits;
  while (dash < key.size() && key[dash] >= '0' && key[dash] <= '9') ++dash;
  if (dash == digits || dash >= key.size() || key[dash] != '-' || key[digits] == '0') return std::nullopt;
  unsigned index = 0;
  const auto [end, ec] = std::from_chars(key.data() + digits, key.data() + dash, index);
  if (ec != std::errc() || end != key.data() + dash || index == 0 || index > kGroupIndexMax) return std::nullopt;
  return IndexedName{group, index, key.substr(dash + 1)};
}

// "repo1-cipher-pass" -> "repo-cipher-pass": the name the tables above use.
std::string baseName(std::string_view canonical) {
  for (std::string_view group : {std::string_view("repo"), std::string_view("pg")}) {
    if (auto indexed = splitIndexed(canonical, group))
      return std::string(group) + "-" + std::string(indexed->rest);
  }
  return std::string(canonical);
}

struct OptionRules {
  bool boolean = false;
  bool multi = false;
  bool secure = false;
  bool commandLineOnly = false;
  bool stanzaOnly = false;
};

OptionRules rulesFor(std::string_view canonical) {
  const std::string base = baseName(canonical);
  OptionRules rules;
  rules.boolean = contains(kBooleanOptions, base);
  rules.multi = contains(kMultiOptions, base);
  rules.secure = isSecureOption(canonical);
  rules.commandLineOnly = contains(kCommandLineOnlyOptions, base);
  rules.stanzaOnly = contains(kStanzaOnlyOptions, base);
  return rules;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

std::string quote(const fs::path& path) { return "'" + path.string() + "'"; }

std::string modeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool isGlobalSection(std::string_view section) { return section == "global" || startsWith(section, "global:"); }

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Public helpers
// ---------------------------------------------------------------------------------------------------------------

std::string ConfigError::describe() const {
  std::string text = what();
  if (!hint_.empty()) text += "\nHINT: " + hint_;
  return text;
}

std::string canonicalOptionName(std::string_view key) {
  if (auto renamed = lookup(kDeprecatedNames, key)) return std::string(*renamed);

  if (auto repo = splitIndexed(key, "repo")) {
    if (auto renamed = lookup(kDeprecatedRepoSuffixes, repo->rest))
      return "repo" + std::to_string(repo->index) + "-" + std::string(*renamed);
    return std::string(key);
  }
  if (auto db = splitIndexed(key, "db")) {
    if (auto renamed = lookup(kDeprecatedDbSuffixes, db->rest))
      return "pg" + std::to_string(db->index) + "-" + std::string(*renamed);
    return std::string(key);
  }
  if (startsWith(key, "db-")) {
    if (auto renamed = lookup(kDeprecatedDbSuffixes, key.substr(3))) return "pg1-" + std::string(*renamed);
  }
  return std::string(key);
}

bool isSecureOption(std::string_view option) {
  const std::string canonical = canonicalOptionName(option);
  if (contains(kSecureOptions, baseName(canonical))) return true;
  constexpr std::string_view suffix = "-cipher-pass";
  return canonical.size() > suffix.size() && canonical.substr(canonical.size() - suffix.size()) == suffix;
}

EnvironmentVariables processEnvironment() {
  EnvironmentVariables result;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!startsWith(text, kEnvPrefix)) continue;
    const std::size_t equal = text.find('=');
    if (equal == std::string_view::npos) continue;
    std::string value;
    value.reserve(text.size() - equal);  // no reallocation, so no unwiped copy of a secret
    value.assign(text.substr(equal + 1));
    result.emplace(std::string(text.substr(0, equal)), std::move(value));
  }
  return result;
}

ConfigSources::~ConfigSources() {
  for (auto& entry : commandLine) Secret::wipe(entry.second);
  for (auto& entry : environment) Secret::wipe(entry.second);
}

std::string ValueOrigin::where() const {
  switch (kind) {
    case ConfigSourceKind::CommandLine:
      return "the command line (" + name + ")";
    case ConfigSourceKind::Environment:
      return "environment variable " + name;
    case ConfigSourceKind::ConfigFile:
      break;
  }
  return file.string();
}

std::string ValueOrigin::describe() const {
  std::string text = "option '" + option + "'";
  if (kind == ConfigSourceKind::ConfigFile && name != option) text += " (written '" + name + "')";
  text += " from " + where();
  if (kind == ConfigSourceKind::ConfigFile)
    text += " (section [" + section + "], line " + std::to_string(line) + ")";
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------------
namespace {

// One value of an option from one place. Secure options keep theirs in `secret`, the others in `text`.
struct Entry {
  std::string text;
  Secret secret;
  bool secure = false;
  ValueOrigin origin;

  Secret toSecret() const { return secure ? secret.clone() : Secret(text); }
  bool empty() const { return secure ? secret.empty() : text.empty(); }
};

// An option as set on the command line or in the environment.
struct Setting {
  bool negated = false;
  bool reset = false;
  std::vector<Entry> values;
  ValueOrigin origin;  // of the first occurrence
};

// A key/value line of a file.
struct FileEntry {
  std::string key;        // as written
  std::string canonical;  // canonicalOptionName(key)
  Entry value;
};

Entry makeEntry(std::string_view value, bool secure, ValueOrigin origin) {
  Entry entry;
  entry.secure = secure;
  if (secure)
    entry.secret = Secret(value);
  else
    entry.text = std::string(value);
  entry.origin = std::move(origin);
  return entry;
}

}  // namespace

struct PgBackRestConfig::State {
  std::map<std::string, Setting, std::less<>> commandLine;
  std::map<std::string, Setting, std::less<>> environment;
  std::map<std::string, std::vector<FileEntry>, std::less<>> sections;
  std::optional<std::string> stanza;
  std::vector<fs::path> files;
  fs::path mainFile;
  std::vector<std::string> warnings;
};

namespace {

using State = PgBackRestConfig::State;

// ---------------------------------------------------------------------------------------------------------------
// Command line and environment
// ---------------------------------------------------------------------------------------------------------------

void addCommandLineOption(State& state, const std::string& key, const std::string& value) {
  bool negate = false;
  bool reset = false;
  std::string_view name = key;
  if (startsWith(name, "no-")) {
    negate = true;
    name.remove_prefix(3);
  } else if (startsWith(name, "reset-")) {
    reset = true;
    name.remove_prefix(6);
  }
  const std::string canonical = canonicalOptionName(name);
  const OptionRules rules = rulesFor(canonical);

  // Checked first, whatever the form: the value must not get any further.
  if (rules.secure) {
    throw ConfigError("option '" + canonical + "' is not allowed on the command-line",
                      "this option could expose secrets in the process list; specify the option in a "
                      "configuration file or an environment variable instead");
  }

  ValueOrigin origin;
  origin.kind = ConfigSourceKind::CommandLine;
  origin.option = canonical;
  origin.name = "--" + key;

  std::optional<std::string> argument;
  if (negate) {
    if (!rules.boolean && canonical != "config") throw ConfigError("invalid option '--" + key + "'");
    if (!value.empty()) throw ConfigError("option '" + key + "' does not allow an argument");
  } else if (reset) {
    if (rules.commandLineOnly) throw ConfigError("invalid option '--" + key + "'");
    if (!value.empty()) throw ConfigError("option '" + key + "' does not allow an argument");
  } else if (rules.boolean) {
    if (value == "n")
      negate = true;
    else if (value.empty() || value == "y")
      argument = "y";
    else
      throw ConfigError("boolean option '--" + key + "' argument must be 'y' or 'n'");
  } else {
    if (value.empty()) throw ConfigError("option '--" + key + "' requires an argument");
    argument = value;
  }

  auto [it, inserted] = state.commandLine.try_emplace(canonical);
  Setting& setting = it->second;
  if (inserted) {
    setting.negated = negate;
    setting.reset = reset;
    setting.origin = origin;
  } else {
    if (setting.negated && negate) throw ConfigError("option '" + canonical + "' is negated multiple times");
    if (setting.reset && reset) throw ConfigError("option '" + canonical + "' is reset multiple times");
    if ((setting.reset && negate) || (setting.negated && reset))
      throw ConfigError("option '" + canonical + "' cannot be negated and reset");
    if (setting.negated != negate) throw ConfigError("option '" + canonical + "' cannot be set and negated");
    if (setting.reset != reset) throw ConfigError("option '" + canonical + "' cannot be set and reset");
    if (!rules.multi || !argument) throw ConfigError("option '" + canonical + "' cannot be set multiple times");
  }
  if (argument) setting.values.push_back(makeEntry(*argument, false, std::move(origin)));
}

void addEnvironmentVariable(State& state, const std::string& variable, const std::string& value) {
  std::string key(variable.substr(kEnvPrefix.size()));
  for (char& c : key) {
    if (c == '_')
      c = '-';
    else if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  if (startsWith(key, "no-")) {
    state.warnings.push_back("environment contains invalid negate option '" + key + "'");
    return;
  }
  if (startsWith(key, "reset-")) {
    state.warnings.push_back("environment contains invalid reset option '" + key + "'");
    return;
  }
  const std::string canonical = canonicalOptionName(key);
  const OptionRules rules = rulesFor(canonical);

  ValueOrigin origin;
  origin.kind = ConfigSourceKind::Environment;
  origin.option = canonical;
  origin.name = variable;

  // Two variables for one option (a deprecated name and the new one): the first, in name order, wins.
  auto [it, inserted] = state.environment.try_emplace(canonical);
  if (!inserted) return;
  Setting& setting = it->second;
  setting.origin = origin;
  if (rules.multi && !value.empty()) {
    std::string_view rest = value;
    while (true) {
      const std::size_t colon = rest.find(':');
      setting.values.push_back(makeEntry(rest.substr(0, colon), rules.secure, origin));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  } else {
    // An empty value is kept, and refused when the option is read (as pgBackRest refuses it only then).
    setting.values.push_back(makeEntry(value, rules.secure, std::move(origin)));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------------------------


// The whole file, or nullopt when it does not exist and `required` is false. The buffer may hold secrets: the
// caller wipes it. `mode` receives the file's permission bits.
std::optional<std::string> readWholeFile(const fs::path& file, bool required, mode_t& mode) {
  const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ENOENT) {
      if (!required) return std::nullopt;
      throw ConfigError("unable to open missing file " + quote(file) + " for read");
    }
    throw ConfigError("unable to open file " + quote(file) + " for read: " + std::strerror(error));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw ConfigError("unable to stat file " + quote(file) + ": " + std::strerror(errno));
  mode = st.st_mode;

  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 0) + 1);
  while (true) {
    if (text.size() == text.capacity()) {
      // Grow by hand so the old block is wiped rather than freed with its bytes in it.
      std::string bigger;
      bigger.reserve(text.capacity() * 2 + 64);
      bigger.assign(text);
      Secret::wipe(text);
      text.swap(bigger);
    }
    const std::size_t used = text.size();
    const std::size_t room = text.capacity() - used;
    text.resize(text.capacity());
    const ssize_t n = ::read(fd.get(), text.data() + used, room);
    if (n < 0 && errno == EINTR) {
      text.resize(used);
      continue;
    }
    if (n < 0) {
      const int error = errno;
      Secret::wipe(text);
      throw ConfigError("unable to read file " + quote(file) + ": " + std::strerror(error));
    }
    text.resize(used + static_cast<std::size_t>(n));
    if (n == 0) break;
  }
  return text;
}

ConfigError syntaxError(const std::string& what, unsigned line, const fs::path& file) {
  return ConfigError(what + " at line " + std::to_string(line) + " of " + quote(file),
                     "each line must be a [section], a key=value pair, a # comment or blank (the line is not "
                     "shown: it may hold a secret)");
}

// Parses one file into `state.sections` following pgBackRest's ini rules (see the header).
void parseFile(State& state, const fs::path& file, std::string_view text, mode_t mode) {
  std::string section;
  unsigned lineNumber = 0;
  std::vector<std::string> secureKeys;
  // Entries are collected first so a syntax error later in the file leaves `state` untouched.
  std::vector<std::pair<std::string, FileEntry>> parsed;

  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(position, end - position));
    position = end + 1;
    ++lineNumber;

    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '[') {
      if (line.back() != ']') throw syntaxError("ini section should end with ]", lineNumber, file);
      section = std::string(line.substr(1, line.size() - 2));
      if (section.empty()) throw syntaxError("invalid empty section", lineNumber, file);
      continue;
    }
    if (section.empty()) {
      throw ConfigError("key/value found outside of section at line " + std::to_string(lineNumber) + " of " +
                            quote(file),
                        "open the file with a section such as [global]; every file in the include path needs its "
                        "own");
    }
    const std::size_t equal = line.find('=');
    if (equal == std::string_view::npos) throw syntaxError("missing '=' in key/value", lineNumber, file);
    const std::string_view key = trim(line.substr(0, equal));
    const std::string_view value = trim(line.substr(equal + 1));
    if (key.empty()) throw syntaxError("key is zero-length", lineNumber, file);

    FileEntry entry;
    entry.key = std::string(key);
    entry.canonical = canonicalOptionName(key);
    ValueOrigin origin;
    origin.kind = ConfigSourceKind::ConfigFile;
    origin.option = entry.canonical;
    origin.name = entry.key;
    origin.file = file;
    origin.section = section;
    origin.line = lineNumber;
    const bool secure = isSecureOption(entry.canonical);
    if (secure && std::find(secureKeys.begin(), secureKeys.end(), entry.canonical) == secureKeys.end())
      secureKeys.push_back(entry.canonical);
    entry.value = makeEntry(value, secure, std::move(origin));
    parsed.emplace_back(section, std::move(entry));
  }

  for (auto& [name, entry] : parsed) {
    const OptionRules rules = rulesFor(entry.canonical);
    const std::string where = " in " + quote(file) + " section [" + name + "] line " +
                              std::to_string(entry.value.origin.line);
    if (startsWith(entry.key, "no-")) {
      state.warnings.push_back("configuration file contains negate option '" + entry.key + "'" + where);
      continue;
    }
    if (startsWith(entry.key, "reset-")) {
      state.warnings.push_back("configuration file contains reset option '" + entry.key + "'" + where);
      continue;
    }
    if (rules.commandLineOnly) {
      state.warnings.push_back("configuration file contains command-line only option '" + entry.key + "'" + where);
      continue;
    }
    if (rules.stanzaOnly && isGlobalSection(name)) {
      state.warnings.push_back("configuration file contains stanza-only option '" + entry.key +
                               "' in global section" + where);
      continue;
    }
    state.sections[name].push_back(std::move(entry));
  }

  if (!secureKeys.empty() && (mode & (S_IRWXO | S_IWGRP)) != 0) {
    std::string names;
    for (const auto& name : secureKeys) names += (names.empty() ? "" : ", ") + name;
    state.warnings.push_back("configuration file " + quote(file) + " holds " + names + " but its mode " +
                             modeText(mode) + " gives other users access\nHINT: chmod 640 " + file.string());
  }
  state.files.push_back(file);
}

// Reads and parses one file; returns false when it is missing and not required.
bool loadFile(State& state, const fs::path& file, bool required) {
  mode_t mode = 0;
  std::optional<std::string> text = readWholeFile(file, required, mode);
  if (!text) return false;
  try {
    parseFile(state, file, *text, mode);
  } catch (...) {
    Secret::wipe(*text);
    throw;
  }
  Secret::wipe(*text);
  return true;
}

// *.conf names in `directory`, sorted; nullopt when it does not exist and is not required.
std::optional<std::vector<std::string>> listIncludeFiles(const fs::path& directory, bool required) {
  std::error_code ec;
  fs::directory_iterator it(directory, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      if (!required) return std::nullopt;
      throw ConfigError("unable to list file info for missing path " + quote(directory),
                        "create the directory or correct --config-include-path (or PGBACKREST_CONFIG_INCLUDE_PATH)");
    }
    throw ConfigError("unable to list file info for path " + quote(directory) + ": " + ec.message());
  }
  std::vector<std::string> names;
  constexpr std::string_view suffix = ".conf";
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) names.push_back(name);
  }
  if (ec) throw ConfigError("unable to list file info for path " + quote(directory) + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

// The setting of a command-line-only option from the command line, else the environment.
const Setting* findEarly(const State& state, std::string_view canonical) {
  if (auto it = state.commandLine.find(canonical); it != state.commandLine.end()) return &it->second;
  if (auto it = state.environment.find(canonical); it != state.environment.end()) return &it->second;
  return nullptr;
}

std::string earlyValue(const Setting& setting) {
  const Entry& entry = setting.values.front();
  if (entry.text.empty())
    throw ConfigError("environment variable '" + setting.origin.name + "' must have a value");
  return entry.text;
}

// pgBackRest's rules for which files to read (see the header).
void loadFiles(State& state, const ConfigDefaults& defaults) {
  const Setting* config = findEarly(state, "config");
  const Setting* configPath = findEarly(state, "config-path");
  const Setting* includePath = findEarly(state, "config-include-path");

  bool loadMain = true;
  bool loadInclude = true;
  bool mainRequired = config != nullptr;
  bool includeRequired = includePath != nullptr;

  const fs::path originalDefault = defaults.configFile();
  fs::path mainDefault = originalDefault;
  fs::path includeDefault = defaults.includePath();
  if (configPath) {
    const fs::path base = earlyValue(*configPath);
    mainDefault = base / originalDefault.filename();
    includeDefault = base / "conf.d";
  }
  if (config && config->negated) {
    loadMain = false;
    mainRequired = false;
  }
  if (config && !configPath && !includePath) {
    loadInclude = false;
    includeRequired = false;
  }

  if (loadMain) {
    const fs::path file = mainRequired ? fs::path(earlyValue(*config)) : mainDefault;
    state.mainFile = file;
    if (!loadFile(state, file, mainRequired) && file == originalDefault) {
      if (loadFile(state, defaults.originalConfigFile, false)) state.mainFile = defaults.originalConfigFile;
    }
  }

  if (loadInclude) {
    const fs::path directory = includeRequired ? fs::path(earlyValue(*includePath)) : includeDefault;
    if (auto names = listIncludeFiles(directory, includeRequired)) {
      for (const auto& name : *names) loadFile(state, directory / name, false);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------------------------

struct Resolved {
  bool set = false;      // false: not set anywhere, or reset
  bool negated = false;  // --no-OPTION, or --OPTION=n for a boolean
  std::vector<const Entry*> entries;
  ValueOrigin origin;
};

Resolved resolve(const State& state, std::string_view option, std::string_view stanzaArgument,
                 std::string_view command) {
  const std::string canonical = canonicalOptionName(option);
  const OptionRules rules = rulesFor(canonical);
  Resolved result;

  for (const auto* settings : {&state.commandLine, &state.environment}) {
    auto it = settings->find(canonical);
    if (it == settings->end()) continue;
    const Setting& setting = it->second;
    if (setting.reset) return result;
    result.set = true;
    result.negated = setting.negated;
    result.origin = setting.origin;
    for (const auto& entry : setting.values) result.entries.push_back(&entry);
    return result;
  }

  std::string_view stanza = stanzaArgument;
  if (stanza.empty() && state.stanza) stanza = *state.stanza;
  std::vector<std::string> sectionNames;
  if (!stanza.empty()) {
    if (!command.empty()) sectionNames.push_back(std::string(stanza) + ":" + std::string(command));
    sectionNames.emplace_back(stanza);
  }
  if (!command.empty()) sectionNames.push_back("global:" + std::string(command));
  sectionNames.emplace_back("global");

  for (const auto& sectionName : sectionNames) {
    auto it = state.sections.find(sectionName);
    if (it == state.sections.end()) continue;
    std::vector<const FileEntry*> found;
    for (const auto& entry : it->second)
      if (entry.canonical == canonical) found.push_back(&entry);
    if (found.empty()) continue;

    for (const auto* entry : found) {
      if (entry->key != found.front()->key) {
        throw ConfigError("configuration file contains duplicate options ('" + found.front()->key + "', '" +
                              entry->key + "') in section '[" + sectionName + "]'",
                          "keep one of them (" + found.front()->value.origin.where() + " line " +
                              std::to_string(found.front()->value.origin.line) + ", " +
                              entry->value.origin.where() + " line " + std::to_string(entry->value.origin.line) +
                              ")");
      }
    }
    if (found.size() > 1 && !rules.multi) {
      throw ConfigError("option '" + canonical + "' cannot be set multiple times",
                        "it is set in section [" + sectionName + "] of " + found[0]->value.origin.where() +
                            " line " + std::to_string(found[0]->value.origin.line) + " and of " +
                            found[1]->value.origin.where() + " line " +
                            std::to_string(found[1]->value.origin.line) + "; keep one");
    }
    result.set = true;
    result.origin = found.front()->value.origin;
    for (const auto* entry : found) result.entries.push_back(&entry->value);
    return result;
  }
  return result;
}

// The one value of a resolved single-valued option; refuses the empty value pgBackRest refuses.
const Entry& singleEntry(const Resolved& resolved, std::string_view canonical) {
  if (resolved.entries.size() > 1)
    throw ConfigError("option '" + std::string(canonical) + "' cannot be set multiple times");
  const Entry& entry = *resolved.entries.front();
  if (entry.empty()) {
    if (entry.origin.kind == ConfigSourceKind::Environment)
      throw ConfigError("environment variable '" + entry.origin.name + "' must have a value");
    throw ConfigError("section '" + entry.origin.section + "', key '" + entry.origin.name + "' must have a value",
                      "in " + entry.origin.file.string() + " line " + std::to_string(entry.origin.line) +
                          ": give a value or remove the line");
  }
  return entry;
}

bool parseBoolean(const Entry& entry, std::string_view canonical) {
  if (entry.text == "y") return true;
  if (entry.text == "n") return false;
  if (entry.origin.kind == ConfigSourceKind::Environment)
    throw ConfigError("environment boolean option '" + std::string(canonical) + "' must be 'y' or 'n'",
                      "in environment variable " + entry.origin.name);
  throw ConfigError("boolean option '" + std::string(canonical) + "' must be 'y' or 'n'",
                    "in " + entry.origin.where() + " line " + std::to_string(entry.origin.line));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// PgBackRestConfig
// ---------------------------------------------------------------------------------------------------------------

PgBackRestConfig::PgBackRestConfig(std::unique_ptr<State> state) : state_(std::move(state)) {}
PgBackRestConfig::PgBackRestConfig(PgBackRestConfig&&) noexcept = default;
PgBackRestConfig& PgBackRestConfig::operator=(PgBackRestConfig&&) noexcept = default;
PgBackRestConfig::~PgBackRestConfig() = default;

PgBackRestConfig PgBackRestConfig::load(const ConfigSources& sources) {
  auto state = std::make_unique<State>();
  for (const auto& [key, value] : sources.commandLine) addCommandLineOption(*state, key, value);
  for (const auto& [name, value] : sources.environment) {
    if (startsWith(name, kEnvPrefix) && name.size() > kEnvPrefix.size()) addEnvironmentVariable(*state, name, value);
  }
  if (const Setting* stanza = findEarly(*state, "stanza"); stanza != nullptr && !stanza->values.empty())
    state->stanza = earlyValue(*stanza);
  loadFiles(*state, sources.defaults);
  return PgBackRestConfig(std::move(state));
}

std::optional<std::string> PgBackRestConfig::value(std::string_view option, std::string_view stanza,
                                                   std::string_view command) const {
  const std::string canonical = canonicalOptionName(option);
  const OptionRules rules = rulesFor(canonical);
  if (rules.secure) throw std::logic_error("option '" + canonical + "' is secure: read it with secret()");
  if (rules.multi) throw std::logic_error("option '" + canonical + "' is a list: read it with values()");
  const Resolved resolved = resolve(*state_, canonical, stanza, command);
  if (!resolved.set) return std::nullopt;
  if (resolved.negated) return rules.boolean ? std::optional<std::string>("n") : std::nullopt;
  const Entry& entry = singleEntry(resolved, canonical);
  if (rules.boolean) parseBoolean(entry, canonical);
  return entry.text;
}

std::vector<std::string> PgBackRestConfig::values(std::string_view option, std::string_view stanza,
                                                  std::string_view command) const {
  const std::string canonical = canonicalOptionName(option);
  const OptionRules rules = rulesFor(canonical);
  if (rules.secure) throw std::logic_error("option '" + canonical + "' is secure: read it with secret()");
  if (!rules.multi) {
    std::optional<std::string> single = value(canonical, stanza, command);
    if (!single) return {};
    return {std::move(*single)};
  }
  const Resolved resolved = resolve(*state_, canonical, stanza, command);
  std::vector<std::string> result;
  if (!resolved.set || resolved.negated) return result;
  for (const auto* entry : resolved.entries) result.push_back(entry->text);
  return result;
}

std::optional<bool> PgBackRestConfig::boolValue(std::string_view option, std::string_view stanza,
                                                std::string_view command) const {
  const std::string canonical = canonicalOptionName(option);
  const Resolved resolved = resolve(*state_, canonical, stanza, command);
  if (!resolved.set) return std::nullopt;
  if (resolved.negated) return false;
  return parseBoolean(singleEntry(resolved, canonical), canonical);
}

std::optional<Secret> PgBackRestConfig::secret(std::string_view option, std::string_view stanza,
                                               std::string_view command) const {
  const std::string canonical = canonicalOptionName(option);
  const Resolved resolved = resolve(*state_, canonical, stanza, command);
  if (!resolved.set || resolved.negated) return std::nullopt;
  return singleEntry(resolved, canonical).toSecret();
}

std::optional<ValueOrigin> PgBackRestConfig::origin(std::string_view option, std::string_view stanza,
                                                    std::string_view command) const {
  const Resolved resolved = resolve(*state_, option, stanza, command);
  if (!resolved.set) return std::nullopt;
  return resolved.origin;
}

const std::optional<std::string>& PgBackRestConfig::stanza() const { return state_->stanza; }
const std::vector<fs::path>& PgBackRestConfig::files() const { return state_->files; }
const fs::path& PgBackRestConfig::mainFile() const { return state_->mainFile; }
const std::vector<std::string>& PgBackRestConfig::warnings() const { return state_->warnings; }

}  // namespace pgbr::backup
