// copyBackupFiles/applyCopyResults on a hand-made data directory and a plaintext repository: what is stored and
// recorded (FORMAT.md §5.1, §8 step 9), files read only up to their manifest size, a file that vanished is dropped,
// delta candidates referenced when their SHA-1 matches, the same result with two threads.
#include "backup/backup_file_copy.h"

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "backup/pgbackrest_error.h"
#include "crypto/cipher_offsets.h"
#include "crypto/sha1.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

namespace fs = std::filesystem;

class BackupFileCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir / "repo/bk/pg_data/base/5");
    write("PG_VERSION", "15\n");
    write("base/5/1259", std::string(20000, 'a'));  // grows after the manifest: read up to 16384 bytes only
    write("postgresql.auto.conf", "grows too\n");    // ... copied whole
    write("empty", "");
    manifest.backup.label = "20261128-101010F";
    manifest.targets.push_back(ManifestTarget{"pg_data", std::nullopt, (dir / "pg").string(), std::nullopt,
                                              std::nullopt, "path", {}});
    add("pg_data/PG_VERSION", 3);
    add("pg_data/base/5/1259", 16384);
    add("pg_data/empty", 0);
    add("pg_data/gone", 10);  // vanished before the copy
    add("pg_data/postgresql.auto.conf", 4);
  }

  void write(const std::string& name, const std::string& content) {
    fs::create_directories((dir / "pg" / name).parent_path());
    std::ofstream(dir / "pg" / name, std::ios::binary) << content;
  }
  void add(const std::string& name, std::uint64_t size) {
    ManifestFile file;
    file.name = name;
    file.size = size;
    file.timestamp = 100;
    manifest.files.push_back(std::move(file));
  }
  std::string stored(const std::string& name) {
    const Bytes plain = test::gunzip(test::readFile(dir / "repo/bk" / (name + ".gz")));
    return std::string(plain.begin(), plain.end());
  }

  test::TempDir dir;
  Manifest manifest;
};

TEST_F(BackupFileCopyTest, StoresCompressedFilesAndRecordsThem) {
  for (unsigned threads : {1u, 2u}) {
    Manifest copy = Manifest::parse(manifest.render(), "m");
    PosixStorage repo((dir / "repo").string());
    const std::vector<FileComparison> comparisons(copy.files.size());
    BackupCopyOptions options;
    options.processMax = threads;
    std::uint64_t lastDone = 0, lastTotal = 0;
    const auto results = copyBackupFiles(copy, repo, "bk", comparisons, options,
                                         [&](std::uint64_t done, std::uint64_t total) { lastDone = done, lastTotal = total; });
    std::vector<std::string> dropped;
    EXPECT_EQ(applyCopyResults(copy, comparisons, results, nullptr, options,
                               [&](const std::string& path) { dropped.push_back(path); }),
              4u);
    EXPECT_EQ(dropped, std::vector<std::string>{(dir / "pg/gone").string()});
    EXPECT_EQ(copy.findFile("pg_data/gone"), nullptr);
    EXPECT_EQ(lastTotal, 3u + 16384 + 10 + 4);
    EXPECT_LE(lastDone, lastTotal);

    EXPECT_EQ(stored("pg_data/base/5/1259"), std::string(16384, 'a'));
    const ManifestFile* relation = copy.findFile("pg_data/base/5/1259");
    EXPECT_EQ(relation->size, 16384u);
    EXPECT_EQ(relation->checksum, crypto::Sha1::hexOf(asBytes(std::string(16384, 'a'))));
    const Bytes repoBytes = test::readFile(dir / "repo/bk/pg_data/base/5/1259.gz");
    EXPECT_EQ(relation->repoSize, repoBytes.size());
    EXPECT_EQ(relation->repoChecksum, crypto::Sha1::hexOf(repoBytes));

    EXPECT_EQ(stored("pg_data/postgresql.auto.conf"), "grows too\n");
    EXPECT_EQ(copy.findFile("pg_data/postgresql.auto.conf")->size, 10u);
    const ManifestFile* empty = copy.findFile("pg_data/empty");
    EXPECT_EQ(empty->size, 0u);
    EXPECT_FALSE(empty->checksum);
    EXPECT_EQ(stored("pg_data/empty"), "");
  }
}

TEST_F(BackupFileCopyTest, CheckpointsRecordTheFilesFinishedSoFar) {
  PosixStorage repo((dir / "repo").string());
  const std::vector<FileComparison> comparisons(manifest.files.size());
  BackupCopyOptions options;
  options.manifestSaveThreshold = 1;  // after every file with bytes
  std::vector<std::size_t> finishedCounts;
  std::vector<std::string> renders;
  const auto results = copyBackupFiles(
      manifest, repo, "bk", comparisons, options, {},
      [&](const std::vector<BackupCopyResult>& sofar, const std::vector<char>& finished) {
        finishedCounts.push_back(static_cast<std::size_t>(std::count(finished.begin(), finished.end(), 1)));
        Manifest partial = Manifest::parse(manifest.render(), "m");
        applyFinishedResults(partial, comparisons, sofar, finished, nullptr, options);
        renders.push_back(partial.render());
      });
  // Largest first: base/5/1259 (16384 bytes) crosses the threshold, which is at least 1% of the total (164 bytes);
  // the 10 and 3 bytes of the next files do not.
  EXPECT_EQ(finishedCounts, (std::vector<std::size_t>{1}));
  ASSERT_EQ(renders.size(), 1u);
  const Manifest first = Manifest::parse(renders[0], "copy");
  EXPECT_EQ(first.findFile("pg_data/base/5/1259")->checksum, crypto::Sha1::hexOf(asBytes(std::string(16384, 'a'))));
  EXPECT_FALSE(first.findFile("pg_data/PG_VERSION")->checksum);  // not copied yet
  EXPECT_NE(first.findFile("pg_data/gone"), nullptr);              // dropped only by the final manifest

  // A checkpoint that cannot be saved fails the copy.
  options.manifestSaveThreshold = 1;
  EXPECT_THROW(copyBackupFiles(manifest, repo, "bk", comparisons, options, {},
                               [](const std::vector<BackupCopyResult>&, const std::vector<char>&) {
                                 throw std::runtime_error("repository full");
                               }),
               std::runtime_error);
}

// Files are written under "<name>.pgbackrest.tmp" and renamed once complete (found by tests/stress/crash_consistency:
// a pgbr backup killed mid-copy left a truncated file under its final name, which a pgbrfs mount had published when
// the kernel closed the descriptor). A copy that fails part-way leaves nothing under the final name.
TEST_F(BackupFileCopyTest, FailedCopyLeavesNoFileUnderTheFinalName) {
  fs::remove(dir / "pg/base/5/1259");
  fs::create_directories(dir / "pg/base/5/1259");  // opens, then read() fails with EISDIR after the target is open
  PosixStorage repo((dir / "repo").string());
  const std::vector<FileComparison> comparisons(manifest.files.size());
  BackupCopyOptions options;
  EXPECT_THROW(copyBackupFiles(manifest, repo, "bk", comparisons, options, nullptr), CommandError);
  EXPECT_FALSE(fs::exists(dir / "repo/bk/pg_data/base/5/1259.gz"));
  EXPECT_FALSE(fs::exists(dir / "repo/bk/pg_data/base/5/1259.gz.pgbackrest.tmp"));
}

TEST_F(BackupFileCopyTest, CompleteCopiesLeaveNoTemporaryFiles) {
  PosixStorage repo((dir / "repo").string());
  const std::vector<FileComparison> comparisons(manifest.files.size());
  BackupCopyOptions options;
  copyBackupFiles(manifest, repo, "bk", comparisons, options, nullptr);
  for (const auto& entry : fs::recursive_directory_iterator(dir / "repo"))
    EXPECT_FALSE(entry.path().string().ends_with(".pgbackrest.tmp")) << entry.path();
  EXPECT_TRUE(fs::exists(dir / "repo/bk/pg_data/base/5/1259.gz"));
  EXPECT_FALSE(fs::exists(dir / "repo/bk/pg_data/gone.gz"));
}

TEST_F(BackupFileCopyTest, DeltaReferencesFilesWithTheSameChecksum) {
  Manifest prior = Manifest::parse(manifest.render(), "m");
  prior.backup.label = "20261127-101010F";
  for (ManifestFile& file : prior.files) file.checksum = crypto::Sha1::hexOf(asBytes(std::string("other")));
  prior.files[0].checksum = crypto::Sha1::hexOf(asBytes(std::string("15\n")));
  prior.files[0].repoSize = 23;

  PosixStorage repo((dir / "repo").string());
  std::vector<FileComparison> comparisons(manifest.files.size());
  for (std::size_t i = 0; i < comparisons.size(); ++i)
    comparisons[i] = FileComparison{FileDecision::Checksum, *prior.files[i].checksum};
  BackupCopyOptions options;
  const auto results = copyBackupFiles(manifest, repo, "bk", comparisons, options);
  EXPECT_TRUE(results[0].referenced);
  EXPECT_FALSE(fs::exists(dir / "repo/bk/pg_data/PG_VERSION.gz"));
  EXPECT_FALSE(results[1].referenced);
  applyCopyResults(manifest, comparisons, results, &prior, options);
  EXPECT_EQ(manifest.files[0].reference, "20261127-101010F");
  EXPECT_EQ(manifest.files[0].repoSize, 23u);
  EXPECT_FALSE(manifest.files[1].reference);
}

TEST(BackupFileCopyStoredTest, EncryptedMountRecordsCipherSizeWithoutRck) {
  ManifestFile file;
  RepoWriteResult written{100, "plainsha", 40, "gzsha"};
  BackupCopyOptions options;
  options.encrypted = true;
  setStoredFile(file, written, options);
  EXPECT_EQ(file.size, 100u);
  EXPECT_EQ(file.checksum, "plainsha");
  EXPECT_EQ(file.repoSize, crypto::offsets::cipherSizeForPlain(40));
  EXPECT_FALSE(file.repoChecksum);

  options.encrypted = false;
  options.compressType = CompressType::None;
  setStoredFile(file, RepoWriteResult{100, "plainsha", 100, "plainsha"}, options);
  EXPECT_FALSE(file.repoSize);
}

TEST(BackupFileCopySourceTest, SourcePathsOfTargets) {
  Manifest manifest;
  manifest.targets.push_back(ManifestTarget{"pg_data", std::nullopt, "/pg", std::nullopt, std::nullopt, "path", {}});
  manifest.targets.push_back(ManifestTarget{"pg_tblspc/16385", std::nullopt, "/ts", "16385", "ts1", "link", {}});
  manifest.targets.push_back(ManifestTarget{"pg_data/pg_wal", std::nullopt, "/wal", std::nullopt, std::nullopt, "link", {}});
  EXPECT_EQ(backupSourcePath(manifest, "pg_data/base/5/1"), "/pg/base/5/1");
  EXPECT_EQ(backupSourcePath(manifest, "pg_tblspc/16385/PG_15_202209061/5/1"), "/ts/PG_15_202209061/5/1");
  EXPECT_EQ(backupSourcePath(manifest, "pg_data/pg_wal/x"), "/wal/x");
  EXPECT_THROW(backupSourcePath(manifest, "pg_tblspc/1/x"), CommandError);
}

}  // namespace
}  // namespace pgbr::backup
