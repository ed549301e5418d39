#include "fs/passphrase_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "unit/test_support.h"

extern char** environ;

namespace pgbr::fs {
namespace {

namespace stdfs = std::filesystem;
using crypto::CipherType;

bool environmentMentions(std::string_view text) {
  for (char** entry = environ; *entry != nullptr; ++entry)
    if (std::string_view(*entry).find(text) != std::string_view::npos) return true;
  return false;
}

class PassphraseSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clearEnvironment();
    ASSERT_EQ(::pipe(notATerminal_), 0);
    options.configDefaults = {dir.path() / "etc/pgbackrest", dir.path() / "etc/pgbackrest.conf"};
    options.promptFd = notATerminal_[0];
  }
  void TearDown() override {
    ::close(notATerminal_[0]);
    ::close(notATerminal_[1]);
    clearEnvironment();
  }
  static void clearEnvironment() {
    for (const char* name :
         {"PGBACKREST_REPO1_CIPHER_PASS", "PGBACKREST_REPO_CIPHER_PASS", "PGBACKREST_REPO2_CIPHER_PASS",
          "PGBACKREST_REPO1_CIPHER_TYPE", "PGBACKREST_STANZA", "PGBACKREST_CONFIG", "CREDENTIALS_DIRECTORY"})
      ::unsetenv(name);
  }

  stdfs::path write(const stdfs::path& file, const std::string& text, stdfs::perms mode = stdfs::perms(0600)) {
    stdfs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    stdfs::permissions(file, mode);
    return file;
  }
  stdfs::path mainConfig() const { return options.configDefaults.configFile(); }
  void writeConfig(const std::string& text) { write(mainConfig(), text, stdfs::perms(0640)); }

  std::string errorOf() {
    try {
      resolveCipher(options);
    } catch (const PassphraseError& error) {
      return error.describe();
    }
    return "no error";
  }

  // Sets up every source, each with its own passphrase.
  void allSources() {
    options.passfile = write(dir / "passfile", "from-passfile\n").string();
    options.extpass = "echo from-extpass";
    write(dir / "creds/pgbrfs-cipher-pass", "from-credential");
    ::setenv("CREDENTIALS_DIRECTORY", (dir / "creds").c_str(), 1);
    ::setenv("PGBACKREST_REPO1_CIPHER_PASS", "from-environment", 1);
    writeConfig("[global]\nrepo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=from-config\n");
  }

  test::TempDir dir;
  PassphraseOptions options;
  int notATerminal_[2] = {-1, -1};
};

// -------------------------------------------------------------------------------------------------------------
// Each source
// -------------------------------------------------------------------------------------------------------------

TEST_F(PassphraseSourceTest, PassfileFirstLine) {
  for (const auto& [content, expected] : std::vector<std::pair<std::string, std::string>>{
           {"pass-one\n", "pass-one"},
           {"pass-two", "pass-two"},
           {"pass three \r\n", "pass three "},
           {"first\nsecond\n", "first"},
           {"  spaced\t\n", "  spaced\t"},
       }) {
    options.passfile = write(dir / "pass", content).string();
    const ResolvedCipher resolved = resolveCipher(options);
    EXPECT_EQ(resolved.type, CipherType::Aes256Cbc);
    ASSERT_TRUE(resolved.pass);
    EXPECT_EQ(resolved.pass->reveal(), expected);
    EXPECT_EQ(resolved.sourceDescription, "passfile " + *options.passfile);
    EXPECT_TRUE(resolved.warnings.empty());
  }
}

TEST_F(PassphraseSourceTest, PassfilePermissionWarning) {
  options.passfile = write(dir / "pass", "p\n", stdfs::perms(0640)).string();
  ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.warnings, std::vector<std::string>{"passfile '" + *options.passfile +
                                                        "' is readable by group or other users (mode 0640)\nHINT: "
                                                        "chmod 600 " +
                                                        *options.passfile});
  stdfs::permissions(*options.passfile, stdfs::perms(0604));
  EXPECT_EQ(resolveCipher(options).warnings.size(), 1u);
  stdfs::permissions(*options.passfile, stdfs::perms(0400));
  EXPECT_TRUE(resolveCipher(options).warnings.empty());
}

TEST_F(PassphraseSourceTest, PassfileErrors) {
  options.passfile = (dir / "missing").string();
  EXPECT_EQ(errorOf(), "unable to open passfile '" + *options.passfile + "' for read: No such file or directory");
  for (const std::string content : {"", "\n", "\r\n", "\nsecond-line\n"}) {
    options.passfile = write(dir / "empty", content).string();
    EXPECT_EQ(errorOf(), "passfile '" + *options.passfile +
                             "' holds an empty passphrase\nHINT: write the passphrase on the first line of the file")
        << content;
  }
  options.passfile = write(dir / "long", std::string(20000, 'x')).string();
  EXPECT_EQ(errorOf(), "the first line of passfile '" + *options.passfile + "' is longer than 16384 bytes");
}

TEST_F(PassphraseSourceTest, ExtpassSuccess) {
  options.extpass = "printf 'ext-pass\\nsecond line\\n'";
  ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.type, CipherType::Aes256Cbc);
  EXPECT_EQ(resolved.pass->reveal(), "ext-pass");
  EXPECT_EQ(resolved.sourceDescription, "extpass command 'printf 'ext-pass\\nsecond line\\n''");

  options.extpass = "printf 'no-newline'";
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "no-newline");
  options.extpass = "printf 'crlf\\r\\n'; echo to-stderr >&2";
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "crlf");
  // A command that writes much more than a pipe holds is drained, not killed by SIGPIPE.
  options.extpass = "echo big; head -c 1000000 /dev/zero";
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "big");
}

TEST_F(PassphraseSourceTest, ExtpassFailure) {
  const std::string hint = "\nHINT: the command must print the passphrase on the first line of its output and exit 0";
  options.extpass = "echo almost; exit 3";
  EXPECT_EQ(errorOf(), "extpass command 'echo almost; exit 3' exited with status 3" + hint);
  options.extpass = "/nonexistent/helper";
  EXPECT_EQ(errorOf(), "extpass command '/nonexistent/helper' exited with status 127" + hint);
  options.extpass = "kill -9 $$";
  EXPECT_EQ(errorOf(), "extpass command 'kill -9 $$' was terminated by signal 9 (" + std::string(::strsignal(9)) +
                           ")" + hint);
}

TEST_F(PassphraseSourceTest, ExtpassEmptyOutput) {
  const std::string hint = "\nHINT: the command must print the passphrase on the first line of its output and exit 0";
  for (const char* command : {"true", "echo", "printf '\\r\\n'"}) {
    options.extpass = command;
    EXPECT_EQ(errorOf(), "extpass command '" + std::string(command) + "' printed no passphrase" + hint) << command;
  }
}

TEST_F(PassphraseSourceTest, ExtpassDoesNotSeeTheEnvironmentPassphrase) {
  ::setenv("PGBACKREST_REPO1_CIPHER_PASS", "env-secret", 1);
  ::setenv("PGBACKREST_REPO2_CIPHER_PASS", "other-secret", 1);
  options.extpass = "echo \"${PGBACKREST_REPO1_CIPHER_PASS:-unset}${PGBACKREST_REPO2_CIPHER_PASS:-unset}\"";
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "unsetunset");
}

TEST_F(PassphraseSourceTest, SystemdCredential) {
  write(dir / "creds/pgbrfs-cipher-pass", "credential-pass");
  ::setenv("CREDENTIALS_DIRECTORY", (dir / "creds").c_str(), 1);
  ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.type, CipherType::Aes256Cbc);
  EXPECT_EQ(resolved.pass->reveal(), "credential-pass");
  EXPECT_EQ(resolved.sourceDescription, "systemd credential " + (dir / "creds/pgbrfs-cipher-pass").string());

  // Another service's credentials directory without ours: skipped.
  stdfs::remove(dir / "creds/pgbrfs-cipher-pass");
  resolved = resolveCipher(options);
  EXPECT_EQ(resolved.type, CipherType::None);

  write(dir / "creds/pgbrfs-cipher-pass", "\n");
  EXPECT_EQ(errorOf(), "systemd credential '" + (dir / "creds/pgbrfs-cipher-pass").string() +
                           "' holds an empty passphrase");
}

TEST_F(PassphraseSourceTest, EnvironmentIsReadThenRemoved) {
  ::setenv("PGBACKREST_REPO1_CIPHER_PASS", "env-pass", 1);
  ::setenv("PGBACKREST_REPO2_CIPHER_PASS", "repo2-pass", 1);
  const ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.type, CipherType::Aes256Cbc);
  EXPECT_EQ(resolved.pass->reveal(), "env-pass");
  EXPECT_EQ(resolved.sourceDescription, "environment variable PGBACKREST_REPO1_CIPHER_PASS");
  EXPECT_EQ(std::getenv("PGBACKREST_REPO1_CIPHER_PASS"), nullptr);
  EXPECT_EQ(std::getenv("PGBACKREST_REPO2_CIPHER_PASS"), nullptr);
  EXPECT_FALSE(environmentMentions("env-pass"));
  EXPECT_FALSE(environmentMentions("CIPHER_PASS"));
}

TEST_F(PassphraseSourceTest, EnvironmentDeprecatedNameAndEmptyValue) {
  ::setenv("PGBACKREST_REPO_CIPHER_PASS", "old-name", 1);
  ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.pass->reveal(), "old-name");
  EXPECT_EQ(resolved.sourceDescription, "environment variable PGBACKREST_REPO_CIPHER_PASS");
  EXPECT_EQ(std::getenv("PGBACKREST_REPO_CIPHER_PASS"), nullptr);

  ::setenv("PGBACKREST_REPO1_CIPHER_PASS", "", 1);
  EXPECT_EQ(errorOf(), "environment variable PGBACKREST_REPO1_CIPHER_PASS is empty\nHINT: give it a value or unset it");
  EXPECT_EQ(std::getenv("PGBACKREST_REPO1_CIPHER_PASS"), nullptr);
}

TEST_F(PassphraseSourceTest, EnvironmentIsScrubbedEvenWhenAnotherSourceWins) {
  ::setenv("PGBACKREST_REPO1_CIPHER_PASS", "env-pass", 1);
  options.passfile = write(dir / "pass", "file-pass\n").string();
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "file-pass");
  EXPECT_EQ(std::getenv("PGBACKREST_REPO1_CIPHER_PASS"), nullptr);
  ::setenv("PGBACKREST_REPO1_CIPHER_PASS", "env-pass", 1);
  options.passfile.reset();
  options.cipherType = CipherType::None;
  EXPECT_EQ(resolveCipher(options).type, CipherType::None);
  EXPECT_EQ(std::getenv("PGBACKREST_REPO1_CIPHER_PASS"), nullptr);
}

TEST_F(PassphraseSourceTest, PgBackRestConfiguration) {
  writeConfig(
      "[global]\n"
      "repo1-path=/var/lib/pgbackrest\n"
      "repo1-cipher-type=aes-256-cbc\n"
      "repo1-cipher-pass=global-pass\n"
      "[demo]\n"
      "repo1-cipher-pass=demo-pass\n");
  ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.type, CipherType::Aes256Cbc);
  EXPECT_EQ(resolved.pass->reveal(), "global-pass");
  EXPECT_EQ(resolved.sourceDescription, "repo1-cipher-pass in " + mainConfig().string() + " [global]");
  EXPECT_TRUE(resolved.warnings.empty());

  options.stanza = "demo";
  resolved = resolveCipher(options);
  EXPECT_EQ(resolved.pass->reveal(), "demo-pass");
  EXPECT_EQ(resolved.sourceDescription, "repo1-cipher-pass in " + mainConfig().string() + " [demo]");

  options.stanza.reset();
  ::setenv("PGBACKREST_STANZA", "demo", 1);
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "demo-pass");

  // -o config=FILE replaces the default files, and must exist.
  const auto other = write(dir / "other.conf", "[global]\nrepo1-cipher-pass=other-pass\n");
  options.config = other.string();
  ::unsetenv("PGBACKREST_STANZA");
  resolved = resolveCipher(options);
  EXPECT_EQ(resolved.pass->reveal(), "other-pass");
  EXPECT_EQ(resolved.type, CipherType::Aes256Cbc);  // no type there: assumed from the passphrase
  options.config = (dir / "missing.conf").string();
  EXPECT_EQ(errorOf(), "unable to open missing file '" + *options.config + "' for read");
}

TEST_F(PassphraseSourceTest, ConfigurationInConfD) {
  write(options.configDefaults.includePath() / "cipher.conf", "[global]\nrepo1-cipher-pass=confd-pass\n",
        stdfs::perms(0644));
  const ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.pass->reveal(), "confd-pass");
  const std::string file = (options.configDefaults.includePath() / "cipher.conf").string();
  EXPECT_EQ(resolved.warnings, std::vector<std::string>{"configuration file '" + file +
                                                        "' holds repo1-cipher-pass but its mode 0644 gives other "
                                                        "users access\nHINT: chmod 640 " + file});
}

TEST_F(PassphraseSourceTest, ConfigurationErrorsBecomePassphraseErrors) {
  writeConfig("[global]\nrepo1-cipher-pass\n");
  EXPECT_EQ(errorOf(), "missing '=' in key/value at line 2 of '" + mainConfig().string() +
                           "'\nHINT: each line must be a [section], a key=value pair, a # comment or blank (the line "
                           "is not shown: it may hold a secret)");
  writeConfig("[global]\nrepo1-cipher-type=aes-128-cbc\n");
  EXPECT_EQ(errorOf(), "'aes-128-cbc' is not allowed for 'repo1-cipher-type' option\nHINT: use none or aes-256-cbc "
                       "(option 'repo1-cipher-type' from " + mainConfig().string() + " (section [global], line 2))");
}

// -------------------------------------------------------------------------------------------------------------
// Precedence
// -------------------------------------------------------------------------------------------------------------

TEST_F(PassphraseSourceTest, PrecedenceBetweenSources) {
  allSources();
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "from-passfile");
  options.passfile.reset();
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "from-extpass");
  options.extpass.reset();
  ::setenv("PGBACKREST_REPO1_CIPHER_PASS", "from-environment", 1);  // each resolve removes it
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "from-credential");
  ::unsetenv("CREDENTIALS_DIRECTORY");
  ::setenv("PGBACKREST_REPO1_CIPHER_PASS", "from-environment", 1);
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "from-environment");
  const ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.pass->reveal(), "from-config");
  EXPECT_EQ(resolved.type, CipherType::Aes256Cbc);
}

TEST_F(PassphraseSourceTest, ExtpassIsNotRunWhenAPassfileIsGiven) {
  const stdfs::path marker = dir / "ran";
  options.passfile = write(dir / "pass", "p\n").string();
  options.extpass = "touch '" + marker.string() + "'; echo x";
  resolveCipher(options);
  EXPECT_FALSE(stdfs::exists(marker));
}

// -------------------------------------------------------------------------------------------------------------
// Cipher type
// -------------------------------------------------------------------------------------------------------------

TEST_F(PassphraseSourceTest, NothingConfiguredMeansPlain) {
  const ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.type, CipherType::None);
  EXPECT_FALSE(resolved.pass);
  EXPECT_EQ(resolved.sourceDescription, "not encrypted (no repo1-cipher-type configured)");
}

TEST_F(PassphraseSourceTest, CipherTypeNoneForcesAPlainMount) {
  allSources();
  options.passfile = (dir / "missing").string();       // not even opened
  options.extpass = "touch '" + (dir / "ran").string() + "'";  // not run
  options.cipherType = CipherType::None;
  const ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.type, CipherType::None);
  EXPECT_FALSE(resolved.pass);
  EXPECT_EQ(resolved.sourceDescription, "not encrypted (-o cipher-type=none)");
  EXPECT_EQ(resolved.warnings,
            std::vector<std::string>{"-o passfile and -o extpass are ignored with -o cipher-type=none"});
  EXPECT_FALSE(stdfs::exists(dir / "ran"));
}

TEST_F(PassphraseSourceTest, ConfiguredNoneWithAGivenPassphraseIsAnError) {
  writeConfig("[global]\nrepo1-cipher-type=none\n");
  options.passfile = write(dir / "pass", "p\n").string();
  EXPECT_EQ(errorOf(), "a passphrase was given (passfile " + *options.passfile +
                           ") but the repository is not encrypted (repo1-cipher-type=none in " +
                           mainConfig().string() +
                           ")\nHINT: remove the passphrase source, or use -o cipher-type=aes-256-cbc if the "
                           "repository is encrypted");
  options.cipherType = CipherType::Aes256Cbc;  // the user overrides the configuration
  EXPECT_EQ(resolveCipher(options).pass->reveal(), "p");
}

TEST_F(PassphraseSourceTest, ConfiguredNoneIgnoresAConfiguredPassphrase) {
  writeConfig("[global]\nrepo1-cipher-type=none\nrepo1-cipher-pass=unused\n");
  const ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.type, CipherType::None);
  EXPECT_FALSE(resolved.pass);
  EXPECT_EQ(resolved.sourceDescription, "not encrypted (repo1-cipher-type=none in " + mainConfig().string() + ")");
  EXPECT_EQ(resolved.warnings, std::vector<std::string>{"repo1-cipher-pass in " + mainConfig().string() +
                                                        " [global] is ignored: repo1-cipher-type=none in " +
                                                        mainConfig().string()});
}

TEST_F(PassphraseSourceTest, EnvironmentCipherTypeOverridesTheFile) {
  writeConfig("[global]\nrepo1-cipher-type=none\n");
  ::setenv("PGBACKREST_REPO1_CIPHER_TYPE", "aes-256-cbc", 1);
  EXPECT_EQ(errorOf(),
            "repository is encrypted (repo1-cipher-type=aes-256-cbc in environment variable "
            "PGBACKREST_REPO1_CIPHER_TYPE) but no passphrase was found\nHINT: set repo1-cipher-pass in " +
                mainConfig().string() + ", or use -o passfile=FILE");
}

TEST_F(PassphraseSourceTest, EncryptedWithoutPassphrase) {
  writeConfig("[global]\nrepo1-cipher-type=aes-256-cbc\n");
  ASSERT_EQ(::write(notATerminal_[1], "typed\n", 6), 6);
  EXPECT_EQ(errorOf(), "repository is encrypted (repo1-cipher-type=aes-256-cbc in " + mainConfig().string() +
                           ") but no passphrase was found\nHINT: set repo1-cipher-pass in " + mainConfig().string() +
                           ", or use -o passfile=FILE");
  // stdin is not a terminal: nothing was read from it.
  char buffer[16] = {};
  ASSERT_EQ(::fcntl(notATerminal_[0], F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(::read(notATerminal_[0], buffer, sizeof(buffer)), 6);

  options.cipherType = CipherType::Aes256Cbc;
  stdfs::remove(mainConfig());
  EXPECT_EQ(errorOf(), "repository is encrypted (-o cipher-type=aes-256-cbc) but no passphrase was found\nHINT: set "
                       "repo1-cipher-pass in " + mainConfig().string() + ", or use -o passfile=FILE");
}

TEST_F(PassphraseSourceTest, PromptOnATerminal) {
  int master = -1;
  int slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  writeConfig("[global]\nrepo1-cipher-type=aes-256-cbc\n");
  options.promptFd = slave;
  ASSERT_EQ(::write(master, "typed-pass\n", 11), 11);
  const ResolvedCipher resolved = resolveCipher(options);
  EXPECT_EQ(resolved.type, CipherType::Aes256Cbc);
  EXPECT_EQ(resolved.pass->reveal(), "typed-pass");
  EXPECT_EQ(resolved.sourceDescription, "interactive prompt");
  termios after{};
  ASSERT_EQ(::tcgetattr(slave, &after), 0);
  EXPECT_NE(after.c_lflag & static_cast<tcflag_t>(ECHO), 0u);  // echo restored
  ::close(master);
  ::close(slave);
}

TEST_F(PassphraseSourceTest, NoPromptForAPlainRepository) {
  int master = -1;
  int slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  options.promptFd = slave;
  EXPECT_EQ(resolveCipher(options).type, CipherType::None);
  ::close(master);
  ::close(slave);
}

// -------------------------------------------------------------------------------------------------------------
// Mount options
// -------------------------------------------------------------------------------------------------------------

TEST(PassphraseMountOptions, Recognised) {
  PassphraseOptions options;
  EXPECT_TRUE(options.applyMountOption("passfile", "/etc/pgbrfs/pass"));
  EXPECT_TRUE(options.applyMountOption("extpass", "pass show repo"));
  EXPECT_TRUE(options.applyMountOption("config", "/etc/pgbackrest/other.conf"));
  EXPECT_TRUE(options.applyMountOption("stanza", "demo"));
  EXPECT_TRUE(options.applyMountOption("cipher-type", "aes-256-cbc"));
  EXPECT_EQ(options.passfile, "/etc/pgbrfs/pass");
  EXPECT_EQ(options.extpass, "pass show repo");
  EXPECT_EQ(options.config, "/etc/pgbackrest/other.conf");
  EXPECT_EQ(options.stanza, "demo");
  EXPECT_EQ(options.cipherType, CipherType::Aes256Cbc);
  EXPECT_TRUE(options.applyMountOption("cipher-type", "none"));
  EXPECT_EQ(options.cipherType, CipherType::None);
  EXPECT_FALSE(options.applyMountOption("allow_other", ""));
  EXPECT_FALSE(options.applyMountOption("repo1-path", "/x"));
}

TEST(PassphraseMountOptions, Refused) {
  const std::string hint =
      "\nHINT: this option could expose secrets in the process list; use -o passfile=FILE, -o extpass=COMMAND, the "
      "systemd credential pgbrfs-cipher-pass, PGBACKREST_REPO1_CIPHER_PASS or repo1-cipher-pass in the pgBackRest "
      "configuration instead";
  auto refusal = [](std::string_view key, std::string_view value) {
    PassphraseOptions options;
    try {
      options.applyMountOption(key, value);
    } catch (const PassphraseError& error) {
      return error.describe();
    }
    return std::string("no error");
  };
  EXPECT_EQ(refusal("pass", "xyzzy"), "option 'pass' is not allowed on the command-line" + hint);
  EXPECT_EQ(refusal("passphrase", "xyzzy"), "option 'passphrase' is not allowed on the command-line" + hint);
  EXPECT_EQ(refusal("password", "xyzzy"), "option 'password' is not allowed on the command-line" + hint);
  EXPECT_EQ(refusal("repo1-cipher-pass", "xyzzy"),
            "option 'repo1-cipher-pass' is not allowed on the command-line" + hint);
  EXPECT_EQ(refusal("repo-cipher-pass", "xyzzy"),
            "option 'repo1-cipher-pass' is not allowed on the command-line" + hint);
  EXPECT_EQ(refusal("repo1-s3-key-secret", "xyzzy"),
            "option 'repo1-s3-key-secret' is not allowed on the command-line" + hint);
  EXPECT_EQ(refusal("pass", ""), "option 'pass' is not allowed on the command-line" + hint);
  EXPECT_EQ(refusal("cipher-type", "aes-128-cbc"),
            "'aes-128-cbc' is not allowed for 'cipher-type' option\nHINT: use -o cipher-type=none or -o "
            "cipher-type=aes-256-cbc");
  EXPECT_EQ(refusal("passfile", ""), "option 'passfile' requires a value");
}

}  // namespace
}  // namespace pgbr::fs
