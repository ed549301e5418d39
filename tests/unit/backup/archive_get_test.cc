#include "backup/archive_get.h"

#include <gtest/gtest.h>

#include "backup/archive_lookup.h"
#include "backup/archive_push.h"
#include "backup/pgbackrest_error.h"
#include "unit/backup/archive_test_support.h"

namespace pgbr::backup {
namespace {

using namespace test_archive;

TEST(ArchiveGet, ReturnsWhatArchivePushStored) {
  for (CompressType type : {CompressType::Gz, CompressType::None, CompressType::Lz4, CompressType::Zst, CompressType::Bz2}) {
    ArchiveFixture fixture;
    const Bytes wal = vectorSegment();
    ArchivePushOptions options;
    options.compressType = type;
    archivePush(fixture.storage, "demo", archiveInfoFor(), fixture.writeWal(kSegment, wal), options);
    const auto destination = fixture.dir / "RECOVERYXLOG";
    const std::optional<ArchiveGetResult> found =
        archiveGet(fixture.storage, "demo", archiveInfoFor(), kSegment, destination, vectorCluster());
    ASSERT_TRUE(found) << compressTypeName(type);
    EXPECT_EQ(found->archiveId, "15-1");
    EXPECT_EQ(test::readFile(destination), wal);
    EXPECT_FALSE(std::filesystem::exists(destination.string() + ".pgbackrest.tmp"));
  }
}

TEST(ArchiveGet, HistoryAndBackupFiles) {
  ArchiveFixture fixture;
  const Bytes history = bytesOf("1\t0/C000100\treached consistency\n");
  archivePush(fixture.storage, "demo", archiveInfoFor(), fixture.writeWal("00000002.history", history), {});
  ASSERT_TRUE(archiveGet(fixture.storage, "demo", archiveInfoFor(), "00000002.history", fixture.dir / "h", std::nullopt));
  EXPECT_EQ(test::readFile(fixture.dir / "h"), history);
  EXPECT_FALSE(archiveGet(fixture.storage, "demo", archiveInfoFor(), "00000003.history", fixture.dir / "h3", std::nullopt));
}

TEST(ArchiveGet, MissingIsNotAnError) {
  ArchiveFixture fixture;
  EXPECT_FALSE(archiveGet(fixture.storage, "demo", archiveInfoFor(), kSegment, fixture.dir / "x", std::nullopt));
  EXPECT_FALSE(std::filesystem::exists(fixture.dir / "x"));
}

// After a stanza-upgrade style history (1: old cluster, 2: same cluster again), the newest matching id is searched
// first and older ones after it; ids of other clusters never.
TEST(ArchiveGet, SearchesMatchingArchiveIdsNewestFirst) {
  ArchiveFixture fixture;
  ArchiveInfo info = archiveInfoFor();
  info.history.push_back(ArchiveHistoryEntry{2, 99, "15", {}});
  info.history.push_back(ArchiveHistoryEntry{3, kSystemId, "15", {}});
  info.dbId = 3;
  const Bytes wal = vectorSegment();
  ArchiveInfo pushTo1 = archiveInfoFor();  // pushes into 15-1
  archivePush(fixture.storage, "demo", pushTo1, fixture.writeWal(kSegment, wal), {});
  const auto found = archiveGet(fixture.storage, "demo", info, kSegment, fixture.dir / "x", vectorCluster());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->archiveId, "15-1");
  EXPECT_EQ(archiveIdsToSearch(info, vectorCluster()), (std::vector<std::string>{"15-3", "15-1"}));
  EXPECT_FALSE(archiveGet(fixture.storage, "demo", info, kSegment, fixture.dir / "y", PgControl{"15", 99, 1300, 1}));
}

TEST(ArchiveGet, TwoChecksumsForOneSegmentIsADuplicateError) {
  ArchiveFixture fixture;
  const std::string dir = "archive/demo/15-1/0000000100000000/";
  fixture.storage.put(dir + kSegment + "-" + std::string(40, 'a'), asBytes("x"));
  fixture.storage.put(dir + kSegment + "-" + std::string(40, 'b') + ".gz", asBytes("y"));
  try {
    archiveGet(fixture.storage, "demo", archiveInfoFor(), kSegment, fixture.dir / "x", std::nullopt);
    FAIL();
  } catch (const CommandError& e) {
    EXPECT_EQ(e.code(), ErrorCode::ArchiveDuplicate);
  }
}

TEST(ArchiveGet, ContentNotMatchingItsNameIsAChecksumErrorAndNothingIsWritten) {
  ArchiveFixture fixture;
  fixture.storage.put("archive/demo/15-1/0000000100000000/" + std::string(kSegment) + "-" + std::string(40, 'a'),
                      vectorSegment());
  try {
    archiveGet(fixture.storage, "demo", archiveInfoFor(), kSegment, fixture.dir / "x", std::nullopt);
    FAIL();
  } catch (const CommandError& e) {
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
  }
  EXPECT_FALSE(std::filesystem::exists(fixture.dir / "x"));
  EXPECT_FALSE(std::filesystem::exists(fixture.dir / "x.pgbackrest.tmp"));
}

// The in-memory lookup (pgbrfs's WAL view): where archive-get finds a file, and its verified content.
TEST(ArchiveGet, LocateAndDecodeInMemory) {
  ArchiveFixture fixture;
  const Bytes wal = vectorSegment();
  ArchivePushOptions options;
  options.compressType = CompressType::Zst;
  archivePushBytes(fixture.storage, "demo", archiveInfoFor(), kSegment, wal, options);
  const std::optional<ArchivedWalFile> file = locateArchivedWal(fixture.storage, "demo", archiveInfoFor(), kSegment, std::nullopt);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->archiveId, "15-1");
  EXPECT_EQ(file->repoFile, "archive/demo/15-1/0000000100000000/" + std::string(kSegment) + "-" + kSegmentSha1 + ".zst");
  EXPECT_EQ(decodeArchivedWal(*file, *fixture.storage.get(file->repoFile)), wal);
  EXPECT_FALSE(locateArchivedWal(fixture.storage, "demo", archiveInfoFor(), "000000010000000000000004", std::nullopt));

  const Bytes history = bytesOf("1\t0/C000100\treached consistency\n");
  archivePushBytes(fixture.storage, "demo", archiveInfoFor(), "00000002.history", history, {});
  const auto historyFile = locateArchivedWal(fixture.storage, "demo", archiveInfoFor(), "00000002.history", std::nullopt);
  ASSERT_TRUE(historyFile);
  EXPECT_EQ(historyFile->repoFile, "archive/demo/15-1/00000002.history");
  EXPECT_EQ(decodeArchivedWal(*historyFile, history), history);

  // Content that does not match the name's checksum is refused.
  ArchivedWalFile wrong = *file;
  wrong.stored->sha1Hex = std::string(40, 'a');
  EXPECT_EQ(commandErrorOf([&] { decodeArchivedWal(wrong, *fixture.storage.get(file->repoFile)); }), ErrorCode::Checksum);
}

}  // namespace
}  // namespace pgbr::backup
