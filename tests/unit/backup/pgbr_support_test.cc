// The small pieces the pgbr commands share: pg_control parsing, repository encryption detection, error codes and
// the pgBackRest-style log lines.
#include <gtest/gtest.h>
#include <sys/xattr.h>

#include <cstring>

#include "backup/command_log.h"
#include "backup/format_error.h"
#include "backup/pg_control.h"
#include "backup/pgbackrest_error.h"
#include "backup/repo_encryption.h"
#include "crypto/crypto_error.h"
#include "unit/backup/archive_test_support.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

Bytes controlFile(std::uint64_t systemId, std::uint32_t controlVersion, std::uint32_t catalogVersion) {
  Bytes data(8192, 0);
  std::memcpy(data.data(), &systemId, 8);
  std::memcpy(data.data() + 8, &controlVersion, 4);
  std::memcpy(data.data() + 12, &catalogVersion, 4);
  return data;
}

TEST(PgControl, ReadsVersionAndIdentity) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "global");
  test::writeFile(dir / "PG_VERSION", asBytes("15\n"));
  test::writeFile(dir / "global/pg_control", controlFile(7713086177070084308u, 1300, 202209061));
  const PgControl control = readPgControl(dir.path());
  EXPECT_EQ(control.version, "15");
  EXPECT_EQ(control.systemId, 7713086177070084308u);
  EXPECT_EQ(control.controlVersion, 1300u);
  EXPECT_EQ(control.catalogVersion, 202209061u);

  test::writeFile(dir / "global/pg_control", controlFile(1, 1700, 1));
  EXPECT_EQ(test_archive::commandErrorOf([&] { readPgControl(dir.path()); }), ErrorCode::VersionNotSupported);
  test::writeFile(dir / "global/pg_control", asBytes("short"));
  EXPECT_EQ(test_archive::commandErrorOf([&] { readPgControl(dir.path()); }), ErrorCode::Format);
  EXPECT_EQ(test_archive::commandErrorOf([&] { readPgControl(dir / "nothing"); }), ErrorCode::FileMissing);
}

TEST(RepoEncryption, PlainDirectoriesAreUnencryptedAndRefusedWhenAesIsConfigured) {
  test::TempDir dir;
  EXPECT_EQ(detectRepoCipherType(dir.path(), std::nullopt), crypto::CipherType::None);
  EXPECT_EQ(detectRepoCipherType(dir.path(), crypto::CipherType::None), crypto::CipherType::None);
  try {
    detectRepoCipherType(dir.path(), crypto::CipherType::Aes256Cbc);
    FAIL();
  } catch (const CommandError& e) {
    EXPECT_EQ(e.code(), ErrorCode::Crypto);
    EXPECT_NE(e.hint().find("mount the repository with pgbrfs first"), std::string::npos);
  }
  EXPECT_EQ(test_archive::commandErrorOf([&] { detectRepoCipherType(dir / "missing", std::nullopt); }), ErrorCode::PathMissing);
}

// A pgbrfs mount answers the attribute on every path; a directory carrying it stands in for one here.
TEST(RepoEncryption, TheAttributeOfAMountDecides) {
  test::TempDir dir;
  const char* value = "aes-256-cbc";
  if (::setxattr(dir.path().c_str(), kCipherTypeXattr, value, std::strlen(value), 0) != 0)
    GTEST_SKIP() << "no user extended attributes on " << dir.path();
  EXPECT_EQ(detectRepoCipherType(dir.path(), std::nullopt), crypto::CipherType::Aes256Cbc);
  EXPECT_EQ(detectRepoCipherType(dir.path(), crypto::CipherType::Aes256Cbc), crypto::CipherType::Aes256Cbc);
  ::setxattr(dir.path().c_str(), kCipherTypeXattr, "rot13", 5, 0);
  EXPECT_EQ(test_archive::commandErrorOf([&] { detectRepoCipherType(dir.path(), std::nullopt); }), ErrorCode::Crypto);
}

TEST(PgBackRestError, LibraryErrorsGetPgBackRestsCodes) {
  auto codeOf = [](auto error) {
    try {
      throw error;
    } catch (...) {
      return commandErrorFor(std::current_exception()).exitCode();
    }
  };
  EXPECT_EQ(codeOf(FormatError("x")), 29);
  EXPECT_EQ(codeOf(ChecksumError("x")), 26);
  EXPECT_EQ(codeOf(FileMissingError("x")), 55);
  EXPECT_EQ(codeOf(crypto::headerInvalidError()), 95);
  EXPECT_EQ(codeOf(CommandError(ErrorCode::ArchiveDuplicate, "x")), 45);
  EXPECT_EQ(codeOf(std::runtime_error("x")), 122);
  EXPECT_EQ(CommandError(ErrorCode::Config, "bad", "one\ntwo").describe(), "bad\nHINT: one\nHINT: two");
  EXPECT_EQ(errorCodeName(ErrorCode::ArchiveMismatch), "ArchiveMismatchError");
}

TEST(CommandLog, PgBackRestLineShapes) {
  EXPECT_EQ(formatLogLine(LogLevel::Info, "x"), "P00   INFO: x");
  EXPECT_EQ(formatLogLine(LogLevel::Warn, "x"), "P00   WARN: x");
  EXPECT_EQ(formatLogLine(LogLevel::Error, "x"), "P00  ERROR: x");
  EXPECT_EQ(formatLogLine(LogLevel::Detail, "x"), "P00 DETAIL: x");
  EXPECT_EQ(commandBeginMessage("archive-push", "0.1.0", {"pg_wal/000000010000000000000001"},
                                {{"stanza", "demo"}, {"archive-header-check", std::nullopt},
                                 {"repo1-cipher-pass", "<redacted>"}, {"log-path", "/a b"}}),
            "archive-push command begin 0.1.0: [pg_wal/000000010000000000000001] --no-archive-header-check "
            "--log-path=\"/a b\" --repo1-cipher-pass=<redacted> --stanza=demo");
  EXPECT_EQ(commandEndMessage("check", std::nullopt, 12), "check command end: completed successfully (12ms)");
  EXPECT_EQ(commandEndMessage("check", 45, 12), "check command end: aborted with exception [045]");
  EXPECT_EQ(parseLogLevel("detail"), LogLevel::Detail);
  EXPECT_FALSE(parseLogLevel("loud"));
}

}  // namespace
}  // namespace pgbr::backup
