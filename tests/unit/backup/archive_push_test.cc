#include "backup/archive_push.h"

#include <gtest/gtest.h>

#include <map>

#include "backup/pgbackrest_error.h"
#include "unit/backup/archive_test_support.h"

namespace pgbr::backup {
namespace {

using namespace test_archive;

ErrorCode pushError(ArchiveFixture& fixture, const ArchiveInfo& info, const std::filesystem::path& wal,
                    const ArchivePushOptions& options = {}, std::string* message = nullptr) {
  return commandErrorOf([&] { archivePush(fixture.storage, "demo", info, wal, options); }, message);
}

TEST(ArchivePush, StoresASegmentAsPgBackRestDoes) {
  ArchiveFixture fixture;
  const Bytes wal = vectorSegment();
  const ArchivePushResult result =
      archivePush(fixture.storage, "demo", archiveInfoFor(), fixture.writeWal(kSegment, wal), {});
  EXPECT_EQ(result.outcome, ArchivePushResult::Outcome::Pushed);
  EXPECT_EQ(result.archiveId, "15-1");
  const std::string expected = "archive/demo/15-1/0000000100000000/" + std::string(kSegment) + "-" + kSegmentSha1 + ".gz";
  EXPECT_EQ(result.repoFile, expected);
  EXPECT_EQ(test::gunzip(test::readFile(fixture.repoRoot / expected)), wal);
  EXPECT_FALSE(std::filesystem::exists(fixture.repoRoot / (expected + ".pgbackrest.tmp")));
}

TEST(ArchivePush, CompressTypeNoneStoresTheSegmentAsIs) {
  ArchiveFixture fixture;
  const Bytes wal = vectorSegment();
  ArchivePushOptions options;
  options.compressType = CompressType::None;
  const ArchivePushResult result =
      archivePush(fixture.storage, "demo", archiveInfoFor(), fixture.writeWal(kSegment, wal), options);
  EXPECT_EQ(result.repoFile, "archive/demo/15-1/0000000100000000/" + std::string(kSegment) + "-" + kSegmentSha1);
  EXPECT_EQ(test::readFile(fixture.repoRoot / result.repoFile), wal);
}

TEST(ArchivePush, SameSegmentTwiceIsAcceptedWithoutWriting) {
  ArchiveFixture fixture;
  const auto wal = fixture.writeWal(kSegment, vectorSegment());
  archivePush(fixture.storage, "demo", archiveInfoFor(), wal, {});
  const auto before = fixture.snapshot();
  const ArchivePushResult again = archivePush(fixture.storage, "demo", archiveInfoFor(), wal, {});
  EXPECT_EQ(again.outcome, ArchivePushResult::Outcome::AlreadyExists);
  EXPECT_EQ(fixture.snapshot(), before);
}

TEST(ArchivePush, SameNameDifferentContentIsADuplicateError) {
  ArchiveFixture fixture;
  Bytes wal = vectorSegment();
  archivePush(fixture.storage, "demo", archiveInfoFor(), fixture.writeWal(kSegment, wal), {});
  const auto before = fixture.snapshot();
  wal[100000] ^= 0xff;
  std::string message;
  EXPECT_EQ(pushError(fixture, archiveInfoFor(), fixture.writeWal(kSegment, wal), {}, &message),
            ErrorCode::ArchiveDuplicate);
  EXPECT_EQ(message, "WAL file '000000010000000000000003' already exists in the repo1 archive with a different checksum");
  EXPECT_EQ(fixture.snapshot(), before);
}

TEST(ArchivePush, WalOfAnotherClusterIsAMismatch) {
  ArchiveFixture fixture;
  std::string message;
  EXPECT_EQ(pushError(fixture, archiveInfoFor(42), fixture.writeWal(kSegment, vectorSegment()), {}, &message),
            ErrorCode::ArchiveMismatch);
  EXPECT_EQ(message, "WAL file '000000010000000000000003' version 15, system-id 7713086177070084308 do not match "
                     "stanza version 15, system-id 42");
  EXPECT_TRUE(fixture.snapshot().empty());
  // The header check can be switched off, as pgBackRest's --no-archive-header-check does.
  ArchivePushOptions options;
  options.headerCheck = false;
  EXPECT_NO_THROW(archivePush(fixture.storage, "demo", archiveInfoFor(42), fixture.walDir / kSegment, options));
}

TEST(ArchivePush, ClusterFromPgControlMustMatchTheStanza) {
  ArchiveFixture fixture;
  ArchivePushOptions options;
  options.cluster = PgControl{"16", kSystemId, 1300, 1};
  EXPECT_EQ(pushError(fixture, archiveInfoFor(), fixture.writeWal(kSegment, vectorSegment()), options),
            ErrorCode::ArchiveMismatch);
}

TEST(ArchivePush, HistoryBackupAndPartialFilesGoWherePgBackRestPutsThem) {
  ArchiveFixture fixture;
  const Bytes history = bytesOf("1\t0/C000100\treached consistency\n");
  const Bytes backup = bytesOf("START WAL LOCATION: 0/3000028 (file 000000010000000000000003)\n");
  const Bytes wal = vectorSegment();
  EXPECT_EQ(archivePush(fixture.storage, "demo", archiveInfoFor(), fixture.writeWal("00000002.history", history), {}).repoFile,
            "archive/demo/15-1/00000002.history");
  EXPECT_EQ(archivePush(fixture.storage, "demo", archiveInfoFor(),
                        fixture.writeWal("000000010000000000000003.00000028.backup", backup), {}).repoFile,
            "archive/demo/15-1/0000000100000000/000000010000000000000003.00000028.backup");
  EXPECT_EQ(archivePush(fixture.storage, "demo", archiveInfoFor(),
                        fixture.writeWal("000000010000000000000003.partial", wal), {}).repoFile,
            "archive/demo/15-1/0000000100000000/000000010000000000000003.partial-" + std::string(kSegmentSha1) + ".gz");
  EXPECT_EQ(test::readFile(fixture.repoRoot / "archive/demo/15-1/00000002.history"), history);
  // History files are replaced, not refused, when pushed again (pgBackRest does not check them).
  const Bytes newer = bytesOf("1\t0/D000000\tno recovery target specified\n");
  archivePush(fixture.storage, "demo", archiveInfoFor(), fixture.writeWal("00000002.history", newer), {});
  EXPECT_EQ(test::readFile(fixture.repoRoot / "archive/demo/15-1/00000002.history"), newer);
}

TEST(ArchivePush, RefusesNamesThatAreNotWalAndMissingFiles) {
  ArchiveFixture fixture;
  EXPECT_EQ(pushError(fixture, archiveInfoFor(), fixture.writeWal("RECOVERYXLOG", asBytes("x"))), ErrorCode::ParamInvalid);
  std::string message;
  EXPECT_EQ(pushError(fixture, archiveInfoFor(), fixture.walDir / "000000010000000000000009", {}, &message),
            ErrorCode::FileMissing);
  EXPECT_NE(message.find("unable to open missing file"), std::string::npos);
}

// The in-memory entry point (pgbrfs's WAL inbox) stores exactly what the file entry point stores.
TEST(ArchivePush, BytesAndFileGiveTheSameRepository) {
  for (CompressType type : {CompressType::Gz, CompressType::None, CompressType::Lz4, CompressType::Zst}) {
    SCOPED_TRACE(std::string(compressTypeName(type)));
    ArchiveFixture fromFile;
    ArchiveFixture fromBytes;
    const Bytes wal = vectorSegment();
    ArchivePushOptions options;
    options.compressType = type;
    options.compressLevel = type == CompressType::Gz ? std::optional<int>(3) : std::nullopt;
    const ArchivePushResult a = archivePush(fromFile.storage, "demo", archiveInfoFor(), fromFile.writeWal(kSegment, wal), options);
    const ArchivePushResult b = archivePushBytes(fromBytes.storage, "demo", archiveInfoFor(), kSegment, wal, options);
    EXPECT_EQ(a.repoFile, b.repoFile);
    EXPECT_EQ(fromFile.snapshot(), fromBytes.snapshot());
    EXPECT_EQ(archivePushBytes(fromBytes.storage, "demo", archiveInfoFor(), kSegment, wal, options).outcome,
              ArchivePushResult::Outcome::AlreadyExists);
  }
}

TEST(ArchivePush, PreparedChecksumAndCompressionAreUsed) {
  ArchiveFixture fixture;
  const Bytes wal = vectorSegment();
  PreparedWal prepared{kSegmentSha1, CompressType::Gz, bytesOf("stands for the compressed segment")};
  const ArchivePushResult result = archivePushBytes(fixture.storage, "demo", archiveInfoFor(), kSegment, wal, {}, &prepared);
  EXPECT_EQ(test::readFile(fixture.repoRoot / result.repoFile), prepared.compressed);
  // Prepared for another compress type: ignored.
  ArchiveFixture other;
  ArchivePushOptions zst;
  zst.compressType = CompressType::Zst;
  const ArchivePushResult computed = archivePushBytes(other.storage, "demo", archiveInfoFor(), kSegment, wal, zst, &prepared);
  EXPECT_NE(test::readFile(other.repoRoot / computed.repoFile), prepared.compressed);
  EXPECT_TRUE(computed.repoFile.ends_with(".zst"));
}

TEST(ArchivePush, BytesErrorsAreTheSame) {
  ArchiveFixture fixture;
  Bytes wal = vectorSegment();
  EXPECT_EQ(commandErrorOf([&] { archivePushBytes(fixture.storage, "demo", archiveInfoFor(), "RECOVERYXLOG", wal, {}); }),
            ErrorCode::ParamInvalid);
  EXPECT_EQ(commandErrorOf([&] { archivePushBytes(fixture.storage, "demo", archiveInfoFor(42), kSegment, wal, {}); }),
            ErrorCode::ArchiveMismatch);
  EXPECT_EQ(commandErrorOf([&] { archivePushBytes(fixture.storage, "demo", archiveInfoFor(), kSegment, ByteView(wal).first(20), {}); }),
            ErrorCode::Format);
  EXPECT_TRUE(fixture.snapshot().empty());
  archivePushBytes(fixture.storage, "demo", archiveInfoFor(), kSegment, wal, {});
  const auto before = fixture.snapshot();
  wal[5000] ^= 1;
  EXPECT_EQ(commandErrorOf([&] { archivePushBytes(fixture.storage, "demo", archiveInfoFor(), kSegment, wal, {}); }),
            ErrorCode::ArchiveDuplicate);
  EXPECT_EQ(fixture.snapshot(), before);
}

}  // namespace
}  // namespace pgbr::backup
