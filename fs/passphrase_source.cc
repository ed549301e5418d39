#include "fs/passphrase_source.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

extern char** environ;  // POSIX

namespace pgbr::fs {

using crypto::CipherType;
using crypto::Secret;

namespace {

// Longest first line accepted from a passfile, a credential, a command or the terminal. pgBackRest's own passes
// are 64 characters; this leaves room for anything a person would use.
constexpr std::size_t kMaxPassphrase = 16 * 1024;

constexpr std::string_view kCredentialName = "pgbrfs-cipher-pass";

std::string quote(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string modeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string repoOption(unsigned repo, std::string_view suffix) {
  return "repo" + std::to_string(repo) + "-" + std::string(suffix);
}

// An open file descriptor, closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// A passphrase and where it came from.
struct Found {
  Secret pass;
  std::string description;
};

// Reads `fd` until the first newline (or EOF; with `drain`, always to EOF) and returns the first line without its
// "\n" and one "\r" before it. Nothing is copied outside the returned, pre-sized buffer and a wiped stack chunk.
Secret readFirstLine(int fd, const std::string& what, bool drain) {
  std::string line;
  line.reserve(kMaxPassphrase + 1);
  std::array<char, 512> chunk{};
  bool complete = false;
  bool tooLong = false;
  while (true) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      Secret::wipe(chunk.data(), chunk.size());
      Secret::wipe(line);
      throw PassphraseError("unable to read " + what + ": " + std::strerror(error));
    }
    if (n == 0) break;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n) && !complete; ++i) {
      if (chunk[i] == '\n') {
        complete = true;
      } else if (line.size() < kMaxPassphrase) {
        line.push_back(chunk[i]);
      } else {
        tooLong = true;
        complete = true;
      }
    }
    if (complete && !drain) break;
  }
  Secret::wipe(chunk.data(), chunk.size());
  if (tooLong) {
    Secret::wipe(line);
    throw PassphraseError("the first line of " + what + " is longer than " + std::to_string(kMaxPassphrase) +
                          " bytes");
  }
  if (!line.empty() && line.back() == '\r') {
    line.back() = '\0';
    line.pop_back();
  }
  return Secret::adopt(line);
}

Secret nonEmpty(Secret pass, const std::string& emptyMessage, std::string hint = {}) {
  if (pass.empty()) throw PassphraseError(emptyMessage, std::move(hint));
  return pass;
}

// ---------------------------------------------------------------------------------------------------------------
// The sources
// ---------------------------------------------------------------------------------------------------------------

Found fromPassfile(const std::string& file, std::vector<std::string>& warnings) {
  const Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    throw PassphraseError("unable to open passfile " + quote(file) + " for read: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw PassphraseError("unable to stat passfile " + quote(file) + ": " + std::strerror(errno));
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    warnings.push_back("passfile " + quote(file) + " is readable by group or other users (mode " +
                       modeText(st.st_mode) + ")\nHINT: chmod 600 " + file);
  }
  Secret pass = readFirstLine(fd.get(), "passfile " + quote(file), false);
  return {nonEmpty(std::move(pass), "passfile " + quote(file) + " holds an empty passphrase",
                   "write the passphrase on the first line of the file"),
          "passfile " + file};
}

// The child's wait status, or -1 (errno set) when waitpid() fails.
int waitForChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

Found fromExtpass(const std::string& command) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw PassphraseError(std::string("unable to create a pipe for the extpass command: ") + std::strerror(errno));
  Fd readEnd(fds[0]);
  Fd writeEnd(fds[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, writeEnd.get(), STDOUT_FILENO);
  std::string shell = "/bin/sh";
  std::string dashC = "-c";
  std::string commandCopy = command;
  char* argv[] = {shell.data(), dashC.data(), commandCopy.data(), nullptr};
  pid_t pid = 0;
  // environ no longer holds any PGBACKREST_*_CIPHER_PASS (resolveCipher scrubbed it first).
  const int spawnError = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawnError != 0)
    throw PassphraseError("unable to run extpass command " + quote(command) + ": " + std::strerror(spawnError));
  writeEnd.reset();  // so the read sees EOF when the command exits

  std::optional<Secret> pass;
  try {
    pass = readFirstLine(readEnd.get(), "the output of extpass command " + quote(command), true);
  } catch (...) {
    readEnd.reset();
    waitForChild(pid);
    throw;
  }
  readEnd.reset();
  const int status = waitForChild(pid);
  const std::string hint = "the command must print the passphrase on the first line of its output and exit 0";
  if (status < 0)
    throw PassphraseError("unable to wait for extpass command " + quote(command) + ": " + std::strerror(errno));
  if (WIFSIGNALED(status)) {
    throw PassphraseError("extpass command " + quote(command) + " was terminated by signal " +
                              std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")",
                          hint);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw PassphraseError(
        "extpass command " + quote(command) + " exited with status " + std::to_string(WEXITSTATUS(status)), hint);
  }
  return {nonEmpty(std::move(*pass), "extpass command " + quote(command) + " printed no passphrase", hint),
          "extpass command " + quote(command)};
}

std::optional<Found> fromCredential() {
  const char* directory = std::getenv("CREDENTIALS_DIRECTORY");
  if (directory == nullptr || *directory == '\0') return std::nullopt;
  const std::string file = std::string(directory) + "/" + std::string(kCredentialName);
  const Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw PassphraseError("unable to open systemd credential " + quote(file) + " for read: " + std::strerror(errno));
  }
  Secret pass = readFirstLine(fd.get(), "systemd credential " + quote(file), false);
  return Found{nonEmpty(std::move(pass), "systemd credential " + quote(file) + " holds an empty passphrase"),
               "systemd credential " + file};
}

// Reads the passphrase variables for `repo`, then wipes and removes every PGBACKREST_*_CIPHER_PASS variable.
// The value is wiped in place because /proc/<pid>/environ shows the original block even after unsetenv().
std::optional<Found> takeEnvironmentPass(unsigned repo) {
  std::vector<std::string> wanted = {"PGBACKREST_REPO" + std::to_string(repo) + "_CIPHER_PASS"};
  if (repo == 1) wanted.emplace_back("PGBACKREST_REPO_CIPHER_PASS");

  std::optional<Found> found;
  for (const auto& name : wanted) {
    if (const char* value = std::getenv(name.c_str()); value != nullptr && !found)
      found = Found{Secret(value), "environment variable " + name};
  }

  // Every entry is wiped where it is, not through getenv(): a variable may occur twice in the block (getenv()
  // finds only the first), and each occurrence would stay readable in /proc/<pid>/environ.
  std::vector<std::string> names;
  constexpr std::string_view prefix = "PGBACKREST_";
  constexpr std::string_view suffix = "_CIPHER_PASS";
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t equal = text.find('=');
    if (equal == std::string_view::npos) continue;
    const std::string_view name = text.substr(0, equal);
    if (name.size() >= prefix.size() + suffix.size() && name.substr(0, prefix.size()) == prefix &&
        name.substr(name.size() - suffix.size()) == suffix) {
      names.emplace_back(name);
      Secret::wipe(*entry + equal + 1, text.size() - equal - 1);
    }
  }
  for (const auto& name : names) ::unsetenv(name.c_str());
  return found;
}

// Restores the terminal's echo however the prompt ends.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= static_cast<tcflag_t>(ECHONL);
    active_ = ::tcsetattr(fd_, TCSANOW, &quiet) == 0;  // TCSANOW: keep what was typed ahead
  }
  ~EchoOff() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

Found fromPrompt(int fd, const std::string& passOption) {
  const std::string prompt = "Repository passphrase (" + passOption + "): ";
  if (::write(STDERR_FILENO, prompt.data(), prompt.size()) < 0) {
    // Nowhere to show the prompt; read anyway, the user may know what is asked.
  }
  Secret pass;
  {
    const EchoOff echoOff(fd);
    pass = readFirstLine(fd, "the terminal", false);
  }
  return {nonEmpty(std::move(pass), "the passphrase entered is empty"), "interactive prompt"};
}

// What the configuration says about the cipher, when it was read.
struct ConfigCipher {
  std::optional<CipherType> type;
  std::string typeWhere;  // "/etc/pgbackrest/pgbackrest.conf", "environment variable PGBACKREST_REPO1_CIPHER_TYPE"
  std::optional<Found> pass;
  std::string mainFile;
};

ConfigCipher readConfig(const PassphraseOptions& options, bool wantPass, std::vector<std::string>& warnings) {
  backup::ConfigSources sources;
  if (options.config) sources.commandLine.emplace("config", *options.config);
  sources.environment = backup::processEnvironment();
  sources.defaults = options.configDefaults;
  const std::string stanza = options.stanza.value_or("");
  const std::string typeOption = repoOption(options.repo, "cipher-type");
  const std::string passOption = repoOption(options.repo, "cipher-pass");

  ConfigCipher result;
  try {
    const backup::PgBackRestConfig config = backup::PgBackRestConfig::load(sources);
    warnings.insert(warnings.end(), config.warnings().begin(), config.warnings().end());
    result.mainFile = config.mainFile().string();
    if (auto text = config.value(typeOption, stanza)) {
      const auto origin = config.origin(typeOption, stanza);
      result.typeWhere = origin->where();
      result.type = crypto::parseCipherType(*text);
      if (!result.type) {
        throw PassphraseError("'" + *text + "' is not allowed for '" + typeOption + "' option",
                              "use none or aes-256-cbc (" + origin->describe() + ")");
      }
    }
    if (wantPass) {
      if (auto pass = config.secret(passOption, stanza)) {
        const auto origin = config.origin(passOption, stanza);
        std::string description = passOption + " in " + origin->where();
        if (origin->kind == backup::ConfigSourceKind::ConfigFile) description += " [" + origin->section + "]";
        result.pass = Found{std::move(*pass), std::move(description)};
      }
    }
  } catch (const backup::ConfigError& error) {
    throw PassphraseError(error.what(), error.hint());
  }
  return result;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Public
// ---------------------------------------------------------------------------------------------------------------

std::string PassphraseError::describe() const {
  std::string text = what();
  if (!hint_.empty()) text += "\nHINT: " + hint_;
  return text;
}

bool PassphraseOptions::applyMountOption(std::string_view key, std::string_view value) {
  static constexpr std::array<std::string_view, 4> kPassNames = {"pass", "passphrase", "password", "cipher-pass"};
  const bool isPass = std::find(kPassNames.begin(), kPassNames.end(), key) != kPassNames.end();
  if (isPass || backup::isSecureOption(key)) {
    const std::string name = isPass ? std::string(key) : backup::canonicalOptionName(key);
    throw PassphraseError("option '" + name + "' is not allowed on the command-line",
                          "this option could expose secrets in the process list; use -o passfile=FILE, "
                          "-o extpass=COMMAND, the systemd credential " + std::string(kCredentialName) +
                              ", PGBACKREST_REPO1_CIPHER_PASS or repo1-cipher-pass in the pgBackRest configuration "
                              "instead");
  }

  std::optional<std::string>* target = nullptr;
  if (key == "passfile")
    target = &passfile;
  else if (key == "extpass")
    target = &extpass;
  else if (key == "config")
    target = &config;
  else if (key == "stanza")
    target = &stanza;
  else if (key != "cipher-type")
    return false;

  if (value.empty()) throw PassphraseError("option '" + std::string(key) + "' requires a value");
  if (target != nullptr) {
    *target = std::string(value);
    return true;
  }
  cipherType = crypto::parseCipherType(value);
  if (!cipherType) {
    throw PassphraseError("'" + std::string(value) + "' is not allowed for 'cipher-type' option",
                          "use -o cipher-type=none or -o cipher-type=aes-256-cbc");
  }
  return true;
}

ResolvedCipher resolveCipher(const PassphraseOptions& options) {
  ResolvedCipher result;
  std::optional<Found> environmentPass = takeEnvironmentPass(options.repo);
  const std::string typeOption = repoOption(options.repo, "cipher-type");
  const std::string passOption = repoOption(options.repo, "cipher-pass");

  if (options.cipherType == CipherType::None) {
    if (options.passfile || options.extpass)
      result.warnings.push_back("-o passfile and -o extpass are ignored with -o cipher-type=none");
    result.type = CipherType::None;
    result.sourceDescription = "not encrypted (-o cipher-type=none)";
    return result;
  }

  // Steps 1-4.
  std::optional<Found> found;
  if (options.passfile)
    found = fromPassfile(*options.passfile, result.warnings);
  else if (options.extpass)
    found = fromExtpass(*options.extpass);
  else if (auto credential = fromCredential())
    found = std::move(credential);
  else if (environmentPass)
    found = Found{nonEmpty(std::move(environmentPass->pass), environmentPass->description + " is empty",
                           "give it a value or unset it"),
                  environmentPass->description};
  environmentPass.reset();

  // Step 5, and the configured type. Read whenever it can matter, and always when -o config= names a file.
  std::optional<ConfigCipher> config;
  if (!options.cipherType || !found || options.config) config = readConfig(options, !found, result.warnings);
  bool passFromConfig = false;
  if (!found && config && config->pass) {
    found = std::move(config->pass);
    passFromConfig = true;
  }

  std::optional<CipherType> type = options.cipherType;
  std::string typeDescription;
  if (type) {
    typeDescription = "-o cipher-type=" + std::string(crypto::cipherTypeName(*type));
  } else if (config && config->type) {
    type = config->type;
    typeDescription = typeOption + "=" + std::string(crypto::cipherTypeName(*type)) + " in " + config->typeWhere;
  }

  if (type == CipherType::None) {
    if (found && !passFromConfig) {
      throw PassphraseError("a passphrase was given (" + found->description +
                                ") but the repository is not encrypted (" + typeDescription + ")",
                            "remove the passphrase source, or use -o cipher-type=aes-256-cbc if the repository is "
                            "encrypted");
    }
    if (found) {
      result.warnings.push_back(found->description + " is ignored: " + typeDescription);
    }
    result.type = CipherType::None;
    result.sourceDescription = "not encrypted (" + typeDescription + ")";
    return result;
  }

  if (!found && type == CipherType::Aes256Cbc) {
    if (::isatty(options.promptFd) == 1) {
      found = fromPrompt(options.promptFd, passOption);
    } else {
      const std::string file = config && !config->mainFile.empty() ? config->mainFile
                                                                    : options.configDefaults.configFile().string();
      throw PassphraseError("repository is encrypted (" + typeDescription + ") but no passphrase was found",
                            "set " + passOption + " in " + file + ", or use -o passfile=FILE");
    }
  }

  if (!found) {
    result.type = CipherType::None;
    result.sourceDescription = "not encrypted (no " + typeOption + " configured)";
    return result;
  }
  result.type = CipherType::Aes256Cbc;
  result.pass = std::move(found->pass);
  result.sourceDescription = std::move(found->description);
  return result;
}

}  // namespace pgbr::fs
