#include "backup/pgbackrest_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

namespace stdfs = std::filesystem;

// A private /etc: <tmp>/etc/pgbackrest/{pgbackrest.conf,conf.d/} and the old <tmp>/etc/pgbackrest.conf.
class PgBackRestConfigTest : public ::testing::Test {
 protected:
  ConfigDefaults defaults() const { return {dir.path() / "etc/pgbackrest", dir.path() / "etc/pgbackrest.conf"}; }
  stdfs::path mainFile() const { return defaults().configFile(); }
  stdfs::path includePath() const { return defaults().includePath(); }

  stdfs::path write(const stdfs::path& file, const std::string& text, stdfs::perms mode = stdfs::perms(0600)) {
    stdfs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    stdfs::permissions(file, mode);
    return file;
  }

  PgBackRestConfig load(CommandLineOptions commandLine = {}, EnvironmentVariables environment = {}) const {
    ConfigSources sources;
    sources.commandLine = std::move(commandLine);
    sources.environment = std::move(environment);
    sources.defaults = defaults();
    return PgBackRestConfig::load(sources);
  }

  // The ConfigError load() throws, as "message" or "message\nHINT: hint".
  std::string loadError(CommandLineOptions commandLine = {}, EnvironmentVariables environment = {}) const {
    try {
      load(std::move(commandLine), std::move(environment));
    } catch (const ConfigError& error) {
      return error.describe();
    }
    return "no error";
  }

  test::TempDir dir;
};

template <typename Query>
std::string errorOf(Query query) {
  try {
    query();
  } catch (const ConfigError& error) {
    return error.describe();
  }
  return "no error";
}

// -------------------------------------------------------------------------------------------------------------
// Sections and precedence
// -------------------------------------------------------------------------------------------------------------

TEST_F(PgBackRestConfigTest, SectionPrecedence) {
  write(mainFile(),
        "[global]\n"
        "repo1-path=/global\n"
        "log-level-console=info\n"
        "[global:backup]\n"
        "repo1-path=/global-backup\n"
        "[demo]\n"
        "repo1-path=/demo\n"
        "[demo:backup]\n"
        "repo1-path=/demo-backup\n"
        "[other]\n"
        "repo1-path=/other\n");
  const auto config = load();
  EXPECT_EQ(config.value("repo1-path"), "/global");
  EXPECT_EQ(config.value("repo1-path", "", "backup"), "/global-backup");
  EXPECT_EQ(config.value("repo1-path", "", "restore"), "/global");
  EXPECT_EQ(config.value("repo1-path", "demo"), "/demo");
  EXPECT_EQ(config.value("repo1-path", "demo", "backup"), "/demo-backup");
  EXPECT_EQ(config.value("repo1-path", "demo", "restore"), "/demo");
  EXPECT_EQ(config.value("repo1-path", "nosuch", "backup"), "/global-backup");
  EXPECT_EQ(config.value("log-level-console", "demo", "backup"), "info");  // falls through to [global]
  EXPECT_EQ(config.value("repo1-retention-full", "demo"), std::nullopt);

  const auto origin = config.origin("repo1-path", "demo", "backup");
  ASSERT_TRUE(origin);
  EXPECT_EQ(origin->kind, ConfigSourceKind::ConfigFile);
  EXPECT_EQ(origin->file, mainFile());
  EXPECT_EQ(origin->section, "demo:backup");
  EXPECT_EQ(origin->line, 9u);
  EXPECT_EQ(origin->describe(),
            "option 'repo1-path' from " + mainFile().string() + " (section [demo:backup], line 9)");
  EXPECT_EQ(config.files(), std::vector<stdfs::path>{mainFile()});
  EXPECT_EQ(config.mainFile(), mainFile());
  EXPECT_TRUE(config.warnings().empty());
}

TEST_F(PgBackRestConfigTest, StanzaFromCommandLineOrEnvironmentIsTheDefault) {
  write(mainFile(), "[global]\nrepo1-path=/global\n[demo]\nrepo1-path=/demo\n[env]\nrepo1-path=/env\n");
  EXPECT_EQ(load({{"stanza", "demo"}}).value("repo1-path"), "/demo");
  EXPECT_EQ(load({{"stanza", "demo"}}).stanza(), "demo");
  EXPECT_EQ(load({}, {{"PGBACKREST_STANZA", "env"}}).value("repo1-path"), "/env");
  EXPECT_EQ(load({{"stanza", "demo"}}, {{"PGBACKREST_STANZA", "env"}}).value("repo1-path"), "/demo");
  EXPECT_EQ(load({{"stanza", "demo"}}).value("repo1-path", "env"), "/env");  // the argument wins
  EXPECT_EQ(load().stanza(), std::nullopt);
}

TEST_F(PgBackRestConfigTest, EnvironmentOverridesFile) {
  write(mainFile(), "[global]\nrepo1-path=/file\nprocess-max=2\n[demo]\nrepo1-path=/demo\n");
  const auto config = load({}, {{"PGBACKREST_REPO1_PATH", "/env"}, {"PATH", "/usr/bin"}, {"PGBACKREST_", "x"}});
  EXPECT_EQ(config.value("repo1-path"), "/env");
  EXPECT_EQ(config.value("repo1-path", "demo", "backup"), "/env");  // above every section
  EXPECT_EQ(config.value("process-max"), "2");
  const auto origin = config.origin("repo1-path");
  ASSERT_TRUE(origin);
  EXPECT_EQ(origin->kind, ConfigSourceKind::Environment);
  EXPECT_EQ(origin->describe(), "option 'repo1-path' from environment variable PGBACKREST_REPO1_PATH");
}

TEST_F(PgBackRestConfigTest, CommandLineOverridesEnvironmentAndFile) {
  write(mainFile(), "[global]\nrepo1-path=/file\n");
  const auto config = load({{"repo1-path", "/cli"}}, {{"PGBACKREST_REPO1_PATH", "/env"}});
  EXPECT_EQ(config.value("repo1-path", "demo", "backup"), "/cli");
  EXPECT_EQ(config.origin("repo1-path")->describe(), "option 'repo1-path' from the command line (--repo1-path)");
}

TEST_F(PgBackRestConfigTest, NegateAndReset) {
  write(mainFile(), "[global]\nstart-fast=y\ndelta=y\nrepo1-path=/file\narchive-async=y\n");
  const auto config =
      load({{"no-start-fast", ""}, {"delta", "n"}, {"reset-repo1-path", ""}, {"reset-archive-async", ""}},
           {{"PGBACKREST_REPO1_PATH", "/env"}});
  EXPECT_EQ(config.boolValue("start-fast"), false);
  EXPECT_EQ(config.value("start-fast"), "n");
  EXPECT_EQ(config.boolValue("delta"), false);
  EXPECT_EQ(config.value("repo1-path"), std::nullopt);  // reset: back to the default, files and env ignored
  EXPECT_EQ(config.origin("repo1-path"), std::nullopt);
  EXPECT_EQ(config.boolValue("archive-async"), std::nullopt);
  EXPECT_EQ(load({{"start-fast", ""}}).boolValue("start-fast"), true);
  EXPECT_EQ(load({{"start-fast", "y"}}).boolValue("start-fast"), true);

  EXPECT_EQ(loadError({{"no-repo1-path", ""}}), "invalid option '--no-repo1-path'");
  EXPECT_EQ(loadError({{"reset-stanza", ""}}), "invalid option '--reset-stanza'");
  EXPECT_EQ(loadError({{"no-start-fast", "y"}}), "option 'no-start-fast' does not allow an argument");
  EXPECT_EQ(loadError({{"start-fast", "yes"}}), "boolean option '--start-fast' argument must be 'y' or 'n'");
  EXPECT_EQ(loadError({{"repo1-path", ""}}), "option '--repo1-path' requires an argument");
  EXPECT_EQ(loadError({{"start-fast", ""}, {"no-start-fast", ""}}), "option 'start-fast' cannot be set and negated");
  EXPECT_EQ(loadError({{"no-start-fast", ""}, {"reset-start-fast", ""}}),
            "option 'start-fast' cannot be negated and reset");
  EXPECT_EQ(loadError({{"no-start-fast", ""}, {"no-start-fast", ""}}), "option 'start-fast' is negated multiple times");
  EXPECT_EQ(loadError({{"repo1-path", "/a"}, {"repo1-path", "/b"}}),
            "option 'repo1-path' cannot be set multiple times");
  EXPECT_EQ(loadError({{"repo1-path", "/a"}, {"reset-repo1-path", ""}}), "option 'repo1-path' cannot be set and reset");
}

TEST_F(PgBackRestConfigTest, NegateAndResetInEnvironmentOrFileAreWarnings) {
  write(mainFile(), "[global]\nno-start-fast=y\nreset-delta=y\nstanza=demo\n[global:backup]\npg1-path=/pg\n");
  const auto config = load({}, {{"PGBACKREST_NO_DELTA", "y"}, {"PGBACKREST_RESET_DELTA", "y"}});
  const std::string file = "'" + mainFile().string() + "'";
  EXPECT_EQ(config.warnings(),
            (std::vector<std::string>{
                "environment contains invalid negate option 'no-delta'",
                "environment contains invalid reset option 'reset-delta'",
                "configuration file contains negate option 'no-start-fast' in " + file + " section [global] line 2",
                "configuration file contains reset option 'reset-delta' in " + file + " section [global] line 3",
                "configuration file contains command-line only option 'stanza' in " + file + " section [global] line 4",
                "configuration file contains stanza-only option 'pg1-path' in global section in " + file +
                    " section [global:backup] line 6",
            }));
  EXPECT_EQ(config.stanza(), std::nullopt);
  EXPECT_EQ(config.value("pg1-path", "", "backup"), std::nullopt);
  EXPECT_EQ(config.boolValue("delta"), std::nullopt);
}

// -------------------------------------------------------------------------------------------------------------
// Which files are read
// -------------------------------------------------------------------------------------------------------------

TEST_F(PgBackRestConfigTest, IncludeDirectory) {
  write(mainFile(), "[global]\nrepo1-path=/main\n");
  write(includePath() / "b.conf", "[global]\nprocess-max=4\n");
  write(includePath() / "a.conf", "[demo]\npg1-path=/pg\n[global]\ndb-include=one\n");
  write(includePath() / "c.conf", "");  // empty files are skipped
  write(includePath() / "c.conf.bak", "not ini at all");
  write(includePath() / "readme.txt", "not ini at all");
  write(includePath() / ".conf", "not ini at all");  // pgBackRest wants at least one character before .conf
  write(includePath() / "d.conf", "[global]\ndb-include=two\n");
  const auto config = load();
  EXPECT_EQ(config.files(), (std::vector<stdfs::path>{mainFile(), includePath() / "a.conf", includePath() / "b.conf",
                                                      includePath() / "c.conf", includePath() / "d.conf"}));
  EXPECT_EQ(config.value("repo1-path"), "/main");
  EXPECT_EQ(config.value("process-max"), "4");
  EXPECT_EQ(config.value("pg1-path", "demo"), "/pg");
  EXPECT_EQ(config.values("db-include"), (std::vector<std::string>{"one", "two"}));  // across files, file order
  EXPECT_EQ(config.origin("process-max")->file, includePath() / "b.conf");
}

TEST_F(PgBackRestConfigTest, KeySetInTwoFilesIsSetTwice) {
  write(mainFile(), "[global]\nrepo1-path=/main\n");
  write(includePath() / "x.conf", "[global]\nrepo1-path=/include\n");
  const auto config = load();
  EXPECT_EQ(errorOf([&] { config.value("repo1-path"); }),
            "option 'repo1-path' cannot be set multiple times\nHINT: it is set in section [global] of " +
                mainFile().string() + " line 2 and of " + (includePath() / "x.conf").string() + " line 2; keep one");
  // A more specific section is found first, so the duplicate in [global] does not matter there.
  write(includePath() / "y.conf", "[demo]\nrepo1-path=/demo\n");
  EXPECT_EQ(load().value("repo1-path", "demo"), "/demo");
}

TEST_F(PgBackRestConfigTest, NoFilesAtAll) {
  const auto config = load();
  EXPECT_TRUE(config.files().empty());
  EXPECT_EQ(config.value("repo1-path"), std::nullopt);
  EXPECT_EQ(config.mainFile(), mainFile());
}

TEST_F(PgBackRestConfigTest, FallsBackToTheOriginalLocation) {
  write(defaults().originalConfigFile, "[global]\nrepo1-path=/old\n");
  write(includePath() / "a.conf", "[global]\nprocess-max=3\n");
  auto config = load();
  EXPECT_EQ(config.value("repo1-path"), "/old");
  EXPECT_EQ(config.value("process-max"), "3");
  EXPECT_EQ(config.mainFile(), defaults().originalConfigFile);
  // Not when the new one exists.
  write(mainFile(), "[global]\nrepo1-path=/new\n");
  EXPECT_EQ(load().value("repo1-path"), "/new");
  // Not with --config-path (the default was overridden).
  stdfs::remove(mainFile());
  const stdfs::path other = dir.path() / "other";
  stdfs::create_directories(other);
  EXPECT_EQ(load({{"config-path", other.string()}}).value("repo1-path"), std::nullopt);
}

TEST_F(PgBackRestConfigTest, ConfigOptionReadsOnlyThatFile) {
  write(mainFile(), "[global]\nrepo1-path=/main\n");
  write(includePath() / "a.conf", "[global]\nprocess-max=3\n");
  const auto mine = write(dir.path() / "mine.conf", "[global]\nrepo1-path=/mine\n");
  auto config = load({{"config", mine.string()}});
  EXPECT_EQ(config.files(), std::vector<stdfs::path>{mine});
  EXPECT_EQ(config.value("repo1-path"), "/mine");
  EXPECT_EQ(config.value("process-max"), std::nullopt);  // the include path is not read with --config alone
  EXPECT_EQ(config.mainFile(), mine);

  // The environment counts as given, as in pgBackRest.
  EXPECT_EQ(load({}, {{"PGBACKREST_CONFIG", mine.string()}}).value("repo1-path"), "/mine");

  // Required.
  const stdfs::path missing = dir.path() / "missing.conf";
  EXPECT_EQ(loadError({{"config", missing.string()}}),
            "unable to open missing file '" + missing.string() + "' for read");
  // With --config-include-path as well, both are read.
  config = load({{"config", mine.string()}, {"config-include-path", includePath().string()}});
  EXPECT_EQ(config.value("process-max"), "3");
}

TEST_F(PgBackRestConfigTest, ConfigPathMovesBothDefaults) {
  const stdfs::path base = dir.path() / "alt";
  write(base / "pgbackrest.conf", "[global]\nrepo1-path=/alt\n");
  write(base / "conf.d/x.conf", "[global]\nprocess-max=5\n");
  write(mainFile(), "[global]\nrepo1-path=/main\n");
  auto config = load({{"config-path", base.string()}});
  EXPECT_EQ(config.value("repo1-path"), "/alt");
  EXPECT_EQ(config.value("process-max"), "5");
  // Neither file is required under --config-path.
  const stdfs::path empty = dir.path() / "empty";
  stdfs::create_directories(empty);
  EXPECT_TRUE(load({{"config-path", empty.string()}}).files().empty());
  // --config beats --config-path for the main file; the include path still follows --config-path.
  const auto mine = write(dir.path() / "mine.conf", "[global]\nrepo1-path=/mine\n");
  config = load({{"config-path", base.string()}, {"config", mine.string()}});
  EXPECT_EQ(config.value("repo1-path"), "/mine");
  EXPECT_EQ(config.value("process-max"), "5");
}

TEST_F(PgBackRestConfigTest, ConfigIncludePathIsRequired) {
  write(mainFile(), "[global]\nrepo1-path=/main\n");
  const stdfs::path include = dir.path() / "inc";
  write(include / "z.conf", "[global]\nprocess-max=9\n");
  auto config = load({{"config-include-path", include.string()}});
  EXPECT_EQ(config.value("repo1-path"), "/main");  // the default main file is still read
  EXPECT_EQ(config.value("process-max"), "9");
  const stdfs::path missing = dir.path() / "nope";
  EXPECT_EQ(loadError({{"config-include-path", missing.string()}}),
            "unable to list file info for missing path '" + missing.string() +
                "'\nHINT: create the directory or correct --config-include-path (or PGBACKREST_CONFIG_INCLUDE_PATH)");
}

TEST_F(PgBackRestConfigTest, NoConfig) {
  write(mainFile(), "[global]\nrepo1-path=/main\n");
  write(includePath() / "a.conf", "[global]\nprocess-max=3\n");
  auto config = load({{"no-config", ""}});
  EXPECT_TRUE(config.files().empty());
  EXPECT_TRUE(config.mainFile().empty());
  // With --config-path, only its conf.d.
  config = load({{"no-config", ""}, {"config-path", defaults().configPath.string()}});
  EXPECT_EQ(config.files(), std::vector<stdfs::path>{includePath() / "a.conf"});
  EXPECT_EQ(config.value("repo1-path"), std::nullopt);
  EXPECT_EQ(config.value("process-max"), "3");
}

TEST_F(PgBackRestConfigTest, UnreadableFilesNameTheFileAndTheReason) {
  // Root reads anything, so use failures that do not depend on permissions.
  const auto plain = write(dir.path() / "plain", "x");
  const stdfs::path throughFile = plain / "pgbackrest.conf";
  EXPECT_EQ(loadError({{"config", throughFile.string()}}),
            "unable to open file '" + throughFile.string() + "' for read: Not a directory");
  stdfs::create_directories(mainFile());  // a directory where the file should be
  EXPECT_EQ(loadError(), "unable to read file '" + mainFile().string() + "': Is a directory");
  stdfs::remove(mainFile());
  stdfs::create_directories(includePath() / "sub.conf");
  EXPECT_EQ(loadError(), "unable to read file '" + (includePath() / "sub.conf").string() + "': Is a directory");
}

// -------------------------------------------------------------------------------------------------------------
// Syntax
// -------------------------------------------------------------------------------------------------------------

TEST_F(PgBackRestConfigTest, CommentsAndWhitespace) {
  write(mainFile(),
        "# a comment\n"
        "   # an indented comment\n"
        "\n"
        "  [global]  \r\n"
        "\trepo1-path  =  /spaced  \r\n"
        "log-path=/var/log # not a comment\n"
        "repo1-retention-full=\n"
        "compress-type==gz\n"
        "[ demo ]\n"
        "pg1-path=/pg\n"
        "   \t  \n"
        "[demo]\n"
        "pg1-port=5433");  // no final newline
  const auto config = load();
  EXPECT_EQ(config.value("repo1-path"), "/spaced");
  EXPECT_EQ(config.value("log-path"), "/var/log # not a comment");
  EXPECT_EQ(config.value("compress-type"), "=gz");  // split at the first '='
  EXPECT_EQ(config.value("pg1-path", " demo "), "/pg");  // section names are not trimmed
  EXPECT_EQ(config.value("pg1-path", "demo"), std::nullopt);
  EXPECT_EQ(config.value("pg1-port", "demo"), "5433");
  EXPECT_EQ(errorOf([&] { config.value("repo1-retention-full"); }),
            "section 'global', key 'repo1-retention-full' must have a value\nHINT: in " + mainFile().string() +
                " line 7: give a value or remove the line");
}

TEST_F(PgBackRestConfigTest, MalformedLines) {
  const std::string file = "'" + mainFile().string() + "'";
  const std::string hint =
      "\nHINT: each line must be a [section], a key=value pair, a # comment or blank (the line is not shown: it may "
      "hold a secret)";
  write(mainFile(), "repo1-cipher-pass=TopSecret\n[global]\n");
  const std::string outside = loadError();
  EXPECT_EQ(outside, "key/value found outside of section at line 1 of " + file +
                         "\nHINT: open the file with a section such as [global]; every file in the include path "
                         "needs its own");
  EXPECT_EQ(outside.find("TopSecret"), std::string::npos);

  write(mainFile(), "[global]\n# fine\n\nTopSecret\n");
  EXPECT_EQ(loadError(), "missing '=' in key/value at line 4 of " + file + hint);
  write(mainFile(), "[global]\n  = value\n");
  EXPECT_EQ(loadError(), "key is zero-length at line 2 of " + file + hint);
  write(mainFile(), "[global\nrepo1-path=/x\n");
  EXPECT_EQ(loadError(), "ini section should end with ] at line 1 of " + file + hint);
  write(mainFile(), "[global]  # comment\n");
  EXPECT_EQ(loadError(), "ini section should end with ] at line 1 of " + file + hint);
  write(mainFile(), "[global]\n[]\n");
  EXPECT_EQ(loadError(), "invalid empty section at line 2 of " + file + hint);

  // Each include file must open its own section, and its line numbers are its own.
  write(mainFile(), "[global]\nrepo1-path=/x\n");
  write(includePath() / "a.conf", "\n\nprocess-max=2\n");
  EXPECT_EQ(loadError(), "key/value found outside of section at line 3 of '" + (includePath() / "a.conf").string() +
                             "'\nHINT: open the file with a section such as [global]; every file in the include "
                             "path needs its own");
}

TEST_F(PgBackRestConfigTest, ListOptions) {
  write(mainFile(),
        "[global]\n"
        "db-include=db1\n"
        "db-include=db2\n"
        "recovery-option=primary_conninfo=host=x\n"
        "recovery-option=recovery_target_action=promote\n"
        "process-max=2\n"
        "process-max=3\n"
        "[demo]\n"
        "db-include=db3\n");
  const auto config = load();
  EXPECT_EQ(config.values("db-include"), (std::vector<std::string>{"db1", "db2"}));
  EXPECT_EQ(config.values("db-include", "demo"), std::vector<std::string>{"db3"});  // sections do not merge
  EXPECT_EQ(config.values("recovery-option"),
            (std::vector<std::string>{"primary_conninfo=host=x", "recovery_target_action=promote"}));
  EXPECT_EQ(config.values("db-exclude"), std::vector<std::string>{});
  EXPECT_EQ(errorOf([&] { config.value("process-max"); }),
            "option 'process-max' cannot be set multiple times\nHINT: it is set in section [global] of " +
                mainFile().string() + " line 6 and of " + mainFile().string() + " line 7; keep one");
  EXPECT_THROW(config.value("db-include"), std::logic_error);
  EXPECT_EQ(load({}, {{"PGBACKREST_DB_INCLUDE", "a:b:c"}}).values("db-include"),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(load({{"db-include", "x"}}).values("db-include"), std::vector<std::string>{"x"});
  CommandLineOptions twice;
  twice.emplace("db-include", "x");
  twice.emplace("db-include", "y");
  EXPECT_EQ(load(twice).values("db-include"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(load({{"repo1-path", "/p"}}).values("repo1-path"), std::vector<std::string>{"/p"});
}

TEST_F(PgBackRestConfigTest, Booleans) {
  write(mainFile(), "[global]\nstart-fast=y\ndelta=n\nresume=yes\n[global:backup]\narchive-copy=Y\n");
  const auto config = load();
  EXPECT_EQ(config.boolValue("start-fast"), true);
  EXPECT_EQ(config.boolValue("delta"), false);
  EXPECT_EQ(config.boolValue("archive-check"), std::nullopt);
  EXPECT_EQ(errorOf([&] { config.boolValue("resume"); }),
            "boolean option 'resume' must be 'y' or 'n'\nHINT: in " + mainFile().string() + " line 4");
  EXPECT_EQ(errorOf([&] { config.value("archive-copy", "", "backup"); }),
            "boolean option 'archive-copy' must be 'y' or 'n'\nHINT: in " + mainFile().string() + " line 6");
  EXPECT_EQ(errorOf([&] { load({}, {{"PGBACKREST_START_FAST", "true"}}).boolValue("start-fast"); }),
            "environment boolean option 'start-fast' must be 'y' or 'n'\nHINT: in environment variable "
            "PGBACKREST_START_FAST");
  EXPECT_EQ(load({}, {{"PGBACKREST_START_FAST", "n"}}).boolValue("start-fast"), false);
}

TEST_F(PgBackRestConfigTest, EmptyEnvironmentValue) {
  const auto config = load({}, {{"PGBACKREST_REPO1_PATH", ""}});
  EXPECT_EQ(errorOf([&] { config.value("repo1-path"); }),
            "environment variable 'PGBACKREST_REPO1_PATH' must have a value");
}

// -------------------------------------------------------------------------------------------------------------
// Secrets
// -------------------------------------------------------------------------------------------------------------

TEST_F(PgBackRestConfigTest, SecretRefusedOnTheCommandLine) {
  const std::string hint =
      "\nHINT: this option could expose secrets in the process list; specify the option in a configuration file "
      "or an environment variable instead";
  EXPECT_EQ(loadError({{"repo1-cipher-pass", "xyzzy"}}),
            "option 'repo1-cipher-pass' is not allowed on the command-line" + hint);
  EXPECT_EQ(loadError({{"repo-cipher-pass", "xyzzy"}}),  // the deprecated name: the error names the option
            "option 'repo1-cipher-pass' is not allowed on the command-line" + hint);
  EXPECT_EQ(loadError({{"repo2-s3-key-secret", "xyzzy"}}),
            "option 'repo2-s3-key-secret' is not allowed on the command-line" + hint);
  EXPECT_EQ(loadError({{"reset-repo1-cipher-pass", ""}}),
            "option 'repo1-cipher-pass' is not allowed on the command-line" + hint);
  try {
    load({{"repo1-cipher-pass", "xyzzy"}});
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), "option 'repo1-cipher-pass' is not allowed on the command-line");
    EXPECT_EQ(std::string(error.what()).find("xyzzy"), std::string::npos);
  }
}

TEST_F(PgBackRestConfigTest, SecretsFromFileAndEnvironment) {
  write(mainFile(),
        "[global]\n"
        "repo1-cipher-type=aes-256-cbc\n"
        "repo1-cipher-pass=file-pass\n"
        "[demo]\n"
        "repo1-cipher-pass=demo-pass\n",
        stdfs::perms(0640));
  auto config = load();
  EXPECT_TRUE(config.warnings().empty());
  auto pass = config.secret("repo1-cipher-pass");
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->reveal(), "file-pass");
  EXPECT_EQ(config.secret("repo1-cipher-pass", "demo")->reveal(), "demo-pass");
  EXPECT_EQ(config.secret("repo-cipher-pass")->reveal(), "file-pass");  // the deprecated name reads it too
  EXPECT_EQ(config.secret("repo2-cipher-pass"), std::nullopt);
  EXPECT_EQ(config.secret("repo1-cipher-type")->reveal(), "aes-256-cbc");  // any option may be read as a secret
  EXPECT_THROW(config.value("repo1-cipher-pass"), std::logic_error);
  EXPECT_THROW(config.values("repo1-cipher-pass"), std::logic_error);
  EXPECT_EQ(config.origin("repo1-cipher-pass")->describe(),
            "option 'repo1-cipher-pass' from " + mainFile().string() + " (section [global], line 3)");

  config = load({}, {{"PGBACKREST_REPO1_CIPHER_PASS", "env-pass"}});
  EXPECT_EQ(config.secret("repo1-cipher-pass", "demo")->reveal(), "env-pass");
  EXPECT_EQ(config.origin("repo1-cipher-pass")->describe(),
            "option 'repo1-cipher-pass' from environment variable PGBACKREST_REPO1_CIPHER_PASS");
}

TEST_F(PgBackRestConfigTest, ReadableConfigHoldingASecretWarns) {
  write(mainFile(), "[global]\nrepo1-cipher-pass=p\nrepo1-s3-key=k\n", stdfs::perms(0644));
  EXPECT_EQ(load().warnings(),
            std::vector<std::string>{"configuration file '" + mainFile().string() +
                                     "' holds repo1-cipher-pass, repo1-s3-key but its mode 0644 gives other users "
                                     "access\nHINT: chmod 640 " +
                                     mainFile().string()});
  write(mainFile(), "[global]\nrepo1-cipher-pass=p\n", stdfs::perms(0660));  // group-writable
  EXPECT_EQ(load().warnings().size(), 1u);
  write(mainFile(), "[global]\nrepo1-cipher-pass=p\n", stdfs::perms(0640));
  EXPECT_TRUE(load().warnings().empty());
  write(mainFile(), "[global]\nrepo1-path=/p\n", stdfs::perms(0644));  // nothing secret in it
  EXPECT_TRUE(load().warnings().empty());
}

// -------------------------------------------------------------------------------------------------------------
// Names
// -------------------------------------------------------------------------------------------------------------

TEST(PgBackRestConfigNames, CanonicalNames) {
  EXPECT_EQ(canonicalOptionName("repo1-cipher-pass"), "repo1-cipher-pass");
  EXPECT_EQ(canonicalOptionName("repo-cipher-pass"), "repo1-cipher-pass");
  EXPECT_EQ(canonicalOptionName("repo-path"), "repo1-path");
  EXPECT_EQ(canonicalOptionName("retention-full"), "repo1-retention-full");
  EXPECT_EQ(canonicalOptionName("backup-host"), "repo1-host");
  EXPECT_EQ(canonicalOptionName("db-path"), "pg1-path");
  EXPECT_EQ(canonicalOptionName("db2-path"), "pg2-path");
  EXPECT_EQ(canonicalOptionName("db-user"), "pg1-host-user");
  EXPECT_EQ(canonicalOptionName("repo3-s3-host"), "repo3-storage-host");
  EXPECT_EQ(canonicalOptionName("repo2-s3-verify-tls"), "repo2-storage-verify-tls");
  EXPECT_EQ(canonicalOptionName("repo0-path"), "repo0-path");
  EXPECT_EQ(canonicalOptionName("repo257-path"), "repo257-path");
  EXPECT_EQ(canonicalOptionName("something-new"), "something-new");

  EXPECT_TRUE(isSecureOption("repo1-cipher-pass"));
  EXPECT_TRUE(isSecureOption("repo-cipher-pass"));
  EXPECT_TRUE(isSecureOption("repo256-cipher-pass"));
  EXPECT_TRUE(isSecureOption("repo2-s3-key"));
  EXPECT_TRUE(isSecureOption("repo1-azure-key"));
  EXPECT_TRUE(isSecureOption("future-cipher-pass"));
  EXPECT_FALSE(isSecureOption("repo1-cipher-type"));
  EXPECT_FALSE(isSecureOption("cipher-pass"));
  EXPECT_FALSE(isSecureOption("repo1-path"));
}

TEST_F(PgBackRestConfigTest, DeprecatedNamesInFiles) {
  write(mainFile(), "[global]\nrepo-path=/old-name\n[demo]\ndb-path=/pg\n");
  auto config = load();
  EXPECT_EQ(config.value("repo1-path"), "/old-name");
  EXPECT_EQ(config.value("pg1-path", "demo"), "/pg");
  EXPECT_EQ(config.origin("repo1-path")->describe(),
            "option 'repo1-path' (written 'repo-path') from " + mainFile().string() + " (section [global], line 2)");

  write(mainFile(), "[global]\nrepo-cipher-pass=a\nrepo1-cipher-pass=b\n");
  config = load();
  EXPECT_EQ(errorOf([&] { config.secret("repo1-cipher-pass"); }),
            "configuration file contains duplicate options ('repo-cipher-pass', 'repo1-cipher-pass') in section "
            "'[global]'\nHINT: keep one of them (" +
                mainFile().string() + " line 2, " + mainFile().string() + " line 3)");
}

TEST(PgBackRestConfigSources, ProcessEnvironmentKeepsOnlyPgBackRestVariables) {
  ::setenv("PGBACKREST_TEST_ONLY_OPTION", "v=1", 1);
  ::setenv("NOT_PGBACKREST_X", "x", 1);
  const EnvironmentVariables environment = processEnvironment();
  ::unsetenv("PGBACKREST_TEST_ONLY_OPTION");
  ::unsetenv("NOT_PGBACKREST_X");
  ASSERT_TRUE(environment.count("PGBACKREST_TEST_ONLY_OPTION"));
  EXPECT_EQ(environment.at("PGBACKREST_TEST_ONLY_OPTION"), "v=1");
  for (const auto& [name, value] : environment) EXPECT_EQ(name.rfind("PGBACKREST_", 0), 0u) << name;
}

}  // namespace
}  // namespace pgbr::backup
