#include "backup/wal_name.h"

#include <gtest/gtest.h>

namespace pgbr::backup {
namespace {

TEST(WalName, Kinds) {
  EXPECT_EQ(walFileKind("000000010000000000000003"), WalFileKind::Segment);
  EXPECT_EQ(walFileKind("000000010000000000000003.partial"), WalFileKind::Partial);
  EXPECT_EQ(walFileKind("00000002.history"), WalFileKind::History);
  EXPECT_EQ(walFileKind("000000010000000000000003.00000028.backup"), WalFileKind::BackupHistory);
  for (const char* bad : {"", "00000001000000000000000", "0000000100000000000000031", "00000001000000000000000a",
                          "000000010000000000000003.partia", "0000002.history", "00000002.History",
                          "000000010000000000000003.0000002.backup", "archive.info", "../00000002.history"})
    EXPECT_FALSE(walFileKind(bad).has_value()) << bad;
}

TEST(WalName, ArchiveDirectory) {
  EXPECT_EQ(walArchiveDirectory("000000010000000000000003"), "0000000100000000");
  EXPECT_EQ(walArchiveDirectory("0000000200000001000000FF.partial"), "0000000200000001");
  EXPECT_EQ(walArchiveDirectory("000000010000000000000003.00000028.backup"), "0000000100000000");
  EXPECT_EQ(walArchiveDirectory("00000002.history"), "");
}

TEST(WalName, ArchivedNamesRoundTrip) {
  const std::string sha = "a9857f3e4a10e6faa1dc1476950a83d86b370060";
  EXPECT_EQ(archivedWalName("000000010000000000000003", sha, ".gz"), "000000010000000000000003-" + sha + ".gz");
  auto parsed = parseArchivedWalName("000000010000000000000003-" + sha + ".gz");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->walName, "000000010000000000000003");
  EXPECT_EQ(parsed->sha1Hex, sha);
  EXPECT_EQ(parsed->extension, ".gz");
  parsed = parseArchivedWalName("000000010000000000000003.partial-" + sha);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->walName, "000000010000000000000003.partial");
  EXPECT_EQ(parsed->extension, "");
  for (const char* ext : {".lz4", ".zst", ".xz", ".bz2"})
    EXPECT_TRUE(parseArchivedWalName("000000010000000000000003-" + sha + ext)) << ext;
}

TEST(WalName, ArchivedNamesRejectNearMisses) {
  const std::string sha = "a9857f3e4a10e6faa1dc1476950a83d86b370060";
  EXPECT_FALSE(parseArchivedWalName("000000010000000000000003"));
  EXPECT_FALSE(parseArchivedWalName("000000010000000000000003-" + sha + ".gzip"));
  EXPECT_FALSE(parseArchivedWalName("000000010000000000000003-A9857f3e4a10e6faa1dc1476950a83d86b370060"));
  EXPECT_FALSE(parseArchivedWalName("000000010000000000000003-" + sha.substr(1)));
  EXPECT_FALSE(parseArchivedWalName("000000010000000000000003_" + sha));
  EXPECT_FALSE(parseArchivedWalName("000000010000000000000003-" + sha + ".gz.pgbackrest.tmp"));
}

TEST(WalName, Timeline) {
  EXPECT_EQ(walTimeline("000000020000000000000003"), 2u);
  EXPECT_EQ(walTimeline("0000000A.history"), 10u);
  EXPECT_THROW(walTimeline("xyz"), std::invalid_argument);
}

TEST(WalName, ArchiveIds) {
  auto id = parseArchiveId("15-1");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->pgVersion, "15");
  EXPECT_EQ(id->historyId, 1u);
  id = parseArchiveId("9.6-12");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->str(), "9.6-12");
  for (const char* bad : {"15", "-1", "15-", "15.-1", ".15-1", "15-a", "a-1", "15-1-2", "15..6-1"})
    EXPECT_FALSE(parseArchiveId(bad)) << bad;
}

TEST(WalName, NextSegment) {
  EXPECT_EQ(nextWalSegment("000000010000000000000003"), "000000010000000000000004");
  EXPECT_EQ(nextWalSegment("0000000100000000000000FF"), "000000010000000100000000");
  EXPECT_EQ(nextWalSegment("00000001000000000000003F", 64u << 20), "000000010000000100000000");
}

}  // namespace
}  // namespace pgbr::backup
