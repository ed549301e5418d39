#include "backup/archive_info.h"

#include <gtest/gtest.h>

#include "backup/format_error.h"
#include "unit/backup/format_fixtures.h"

namespace pgbr::backup {
namespace {

constexpr const char* kEncArchiveInfo = "plaintext/repo-enc/archive/demo/archive.info";
constexpr const char* kPlainArchiveInfo = "repo-plain/archive/demo/archive.info";

template <typename Error = FormatError>
std::string loadError(const std::string& text) {
  try {
    ArchiveInfo::parse(text, "archive.info");
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(ArchiveInfo, LoadsTheEncryptedRepoFile) {
  const ArchiveInfo info = ArchiveInfo::parse(test::fixtureText(kEncArchiveInfo), kEncArchiveInfo);
  EXPECT_EQ(info.header.backrestVersion, "2.45");
  ASSERT_TRUE(info.header.cipherPass.has_value());
  EXPECT_EQ(info.header.cipherPass->reveal(), test::vectorPassphrase("repo-enc.archive"));
  EXPECT_EQ(info.dbId, 1u);
  ASSERT_EQ(info.history.size(), 1u);
  EXPECT_EQ(info.history[0].id, 1u);
  EXPECT_EQ(info.history[0].systemId, 7713086177070084308u);
  EXPECT_EQ(info.history[0].version, "15");
  EXPECT_EQ(info.current().systemId, 7713086177070084308u);
  EXPECT_EQ(info.archiveId(), "15-1");
  EXPECT_TRUE(info.unknown.empty());
}

TEST(ArchiveInfo, UnencryptedRepoHasNoCipherPass) {
  const ArchiveInfo info = ArchiveInfo::parse(test::fixtureText(kPlainArchiveInfo), kPlainArchiveInfo);
  EXPECT_FALSE(info.header.cipherPass.has_value());
  EXPECT_EQ(info.archiveId(), "15-1");
}

TEST(ArchiveInfo, SavesPgBackRestBytes) {
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    if (fixture.kind != test::FormatFixtureKind::ArchiveInfo) continue;
    SCOPED_TRACE(fixture.path);
    const std::string text = test::fixtureText(fixture.path);
    EXPECT_EQ(ArchiveInfo::parse(text, fixture.path).render(), text);
  }
}

// A model built from typed values alone renders exactly what pgBackRest wrote.
TEST(ArchiveInfo, BuiltFromScratchMatchesPgBackRest) {
  ArchiveInfo info;
  info.dbId = 1;
  info.history.push_back(ArchiveHistoryEntry{1, 7713086177070084308u, "15", {}});
  EXPECT_EQ(info.render(), test::fixtureText(kPlainArchiveInfo));
  info.header.cipherPass = crypto::Secret(test::vectorPassphrase("repo-enc.archive"));
  EXPECT_EQ(info.render(), test::fixtureText(kEncArchiveInfo));
}

// History keeps file order (oldest first), which is not byte order once ids reach 10; [db] follows the current id.
TEST(ArchiveInfo, HistoryKeepsOrderAndDbFollowsCurrent) {
  ArchiveInfo info;
  for (unsigned id = 1; id <= 11; ++id)
    info.history.push_back(ArchiveHistoryEntry{id, 1000u + id, id < 11 ? "14" : "15", {}});
  info.dbId = 11;
  const std::string text = info.render();
  EXPECT_NE(text.find("[db]\ndb-id=11\ndb-system-id=1011\ndb-version=\"15\"\n"), std::string::npos);
  EXPECT_NE(text.find("9={\"db-id\":1009,\"db-version\":\"14\"}\n10={"), std::string::npos);
  const ArchiveInfo loaded = ArchiveInfo::parse(text, "archive.info");
  ASSERT_EQ(loaded.history.size(), 11u);
  EXPECT_EQ(loaded.history[9].id, 10u);
  EXPECT_EQ(loaded.archiveId(), "15-11");
  ASSERT_NE(loaded.findHistory(3), nullptr);
  EXPECT_EQ(loaded.findHistory(3)->archiveId(), "14-3");
  EXPECT_EQ(loaded.findHistory(12), nullptr);
  EXPECT_EQ(loaded.render(), text);
}

TEST(ArchiveInfo, UnknownSectionsKeysAndJsonMembersSurvive) {
  std::string text = test::fixtureText(kEncArchiveInfo);
  text = test::replaceOnce(text, "backrest-version=\"2.45\"\n", "backrest-version=\"2.45\"\nbackrest-zzz=[1,2]\n");
  text = test::replaceOnce(text, "\n[cipher]\ncipher-pass=",
                           "\n[ccc]\nweird key=\"v\"\n\n[cipher]\ncipher-kind=\"x\"\ncipher-pass=");
  text = test::replaceOnce(text, "db-id=1\n", "db-extra={\"a\":null}\ndb-id=1\n");
  text = test::replaceOnce(text, "\"db-version\":\"15\"}", "\"db-version\":\"15\",\"db-zz\":true}");
  text = test::reseal(text);
  const ArchiveInfo info = ArchiveInfo::parse(text, "archive.info");
  EXPECT_EQ(info.history[0].unknown.at("db-zz"), JsonValue(true));
  ASSERT_NE(info.unknown.find("ccc", "weird key"), nullptr);
  ASSERT_NE(info.unknown.find("db", "db-extra"), nullptr);
  ASSERT_NE(info.unknown.find("backrest", "backrest-zzz"), nullptr);
  ASSERT_NE(info.unknown.find("cipher", "cipher-kind"), nullptr);
  EXPECT_EQ(info.render(), text);
}

TEST(ArchiveInfo, OutOfOrderJsonKeysAreRejected) {
  // Found by the ini parser (the value is not JSON in pgBackRest's form), before the checksum is looked at.
  const std::string text = test::replaceOnce(test::fixtureText(kPlainArchiveInfo),
                                             "1={\"db-id\":7713086177070084308,\"db-version\":\"15\"}",
                                             "1={\"db-version\":\"15\",\"db-id\":7713086177070084308}");
  EXPECT_EQ(loadError<JsonFormatError>(text),
            "invalid value at line 11: 1={\"db-version\":\"15\",\"db-id\":7713086177070084308} (invalid JSON at "
            "offset 19: key 'db-id' is out of order after 'db-version' (keys must ascend in byte order))");
}

TEST(ArchiveInfo, InconsistentContentIsRejected) {
  const std::string text = test::fixtureText(kPlainArchiveInfo);
  EXPECT_EQ(loadError(test::reseal(test::replaceOnce(text, "db-id=1\n", "db-id=2\n"))),
            "unable to find current id 2 in history of 'archive.info'");
  EXPECT_EQ(loadError(test::reseal(test::replaceOnce(
                text, "\n[db:history]\n1={\"db-id\":7713086177070084308,\"db-version\":\"15\"}\n", ""))),
            "history is missing in 'archive.info'");
  EXPECT_EQ(loadError(test::reseal(test::replaceOnce(text, "db-id=1\n", ""))),
            "required key 'db-id' not found in section 'db'");
  EXPECT_EQ(loadError<JsonFormatError>(test::reseal(test::replaceOnce(text, "\"db-version\":\"15\"}", "\"db-version\":15}"))),
            "invalid value for key 'db-version' in section 'db:history', key '1': expected string but found integer 15");
  EXPECT_EQ(loadError(test::reseal(test::replaceOnce(text, "\n1={", "\nx={"))),
            "invalid history id 'x' in section 'db:history'");
  EXPECT_EQ(loadError<ChecksumError>(test::replaceOnce(text, "db-id=1\n", "db-id=2\n")),
            "invalid checksum in 'archive.info', actual '2a3189f27225b63ab42fed16e90251cd70d56c19' but expected "
            "'864f9c305058367a1cce4176e7a78ff38ca6e1cb'");
}

}  // namespace
}  // namespace pgbr::backup
