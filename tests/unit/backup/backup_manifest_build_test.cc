// buildManifestFromPgData on hand-made data directories: pgBackRest's exclusions (FORMAT.md §8 step 4),
// --exclude, tablespaces through pg_tblspc links, defaults; compareWithPrior and deltaReason (§8 step 6).
#include "backup/backup_manifest_build.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

namespace fs = std::filesystem;

void touch(const fs::path& path, const std::string& content = "x") {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

std::vector<std::string> fileNames(const Manifest& manifest) {
  std::vector<std::string> names;
  for (const ManifestFile& file : manifest.files) names.push_back(file.name);
  return names;
}

bool hasPath(const Manifest& manifest, const std::string& name) {
  for (const ManifestPath& path : manifest.paths)
    if (path.name == name) return true;
  return false;
}

class ManifestBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg = dir / "pg";
    fs::create_directories(pg);
    ::chmod(pg.c_str(), 0700);
    touch(pg / "PG_VERSION", "15\n");
    touch(pg / "global/pg_control");
    touch(pg / "global/pg_internal.init");
    touch(pg / "postmaster.pid");
    touch(pg / "postmaster.opts");
    touch(pg / "backup_label.old");
    touch(pg / "standby.signal");
    touch(pg / "postgresql.auto.conf");
    touch(pg / "pg_wal/000000010000000000000001");
    touch(pg / "pg_wal/archive_status/000000010000000000000001.ready");
    touch(pg / "pg_stat_tmp/global.stat");
    touch(pg / "pg_subtrans/0000");
    touch(pg / "pg_xact/0000");
    touch(pg / "base/5/1259");
    touch(pg / "base/5/1259_fsm");
    touch(pg / "base/5/16400");        // unlogged: main fork left out
    touch(pg / "base/5/16400.1");
    touch(pg / "base/5/16400_vm");
    touch(pg / "base/5/16400_init");   // ... init fork kept
    touch(pg / "base/5/t3_16500");     // temporary relation
    touch(pg / "base/5/pg_internal.init");
    touch(pg / "base/pgsql_tmp/pgsql_tmp123.0");
    touch(pg / "junk/a");
    touch(pg / "keepdir/b");
    touch(ts / "PG_15_202209061/5/16600", "tablespace");
    touch(ts / "PG_14_202107181/5/1", "other version");
    fs::create_directories(pg / "pg_tblspc");
    fs::create_symlink(ts, pg / "pg_tblspc/16385");
  }

  Manifest build(std::vector<std::string> excludes = {}) {
    Manifest manifest;
    ManifestBuildOptions options;
    options.catalogVersion = 202209061;
    options.excludes = std::move(excludes);
    options.tablespaceNames["16385"] = "ts1";
    buildManifestFromPgData(manifest, pg, options);
    return manifest;
  }

  test::TempDir dir;
  fs::path pg, ts = dir / "ts";
};

TEST_F(ManifestBuildTest, LeavesOutWhatPgBackRestLeavesOut) {
  const Manifest manifest = build({"junk", "keepdir/"});
  const std::vector<std::string> expected = {
      "pg_data/PG_VERSION",        "pg_data/base/5/1259",  "pg_data/base/5/1259_fsm", "pg_data/base/5/16400_init",
      "pg_data/global/pg_control", "pg_data/pg_xact/0000", "pg_data/postgresql.auto.conf",
      "pg_tblspc/16385/PG_15_202209061/5/16600",
  };
  EXPECT_EQ(fileNames(manifest), expected);
  // Directories whose contents are left out are still recorded; excluded ones are not.
  EXPECT_TRUE(hasPath(manifest, "pg_data/pg_wal"));
  EXPECT_TRUE(hasPath(manifest, "pg_data/pg_wal/archive_status") == false);
  EXPECT_TRUE(hasPath(manifest, "pg_data/pg_stat_tmp"));
  EXPECT_TRUE(hasPath(manifest, "pg_data/keepdir"));
  EXPECT_FALSE(hasPath(manifest, "pg_data/junk"));
  EXPECT_TRUE(hasPath(manifest, "pg_tblspc/16385/PG_15_202209061/5"));
  EXPECT_FALSE(hasPath(manifest, "pg_tblspc/16385/PG_14_202107181"));
}

TEST_F(ManifestBuildTest, TablespaceTargetLinkAndDefaults) {
  const Manifest manifest = build();
  ASSERT_EQ(manifest.targets.size(), 2u);
  EXPECT_EQ(manifest.targets[0].name, "pg_data");
  EXPECT_EQ(manifest.targets[0].type, "path");
  EXPECT_EQ(manifest.targets[1].name, "pg_tblspc/16385");
  EXPECT_EQ(manifest.targets[1].tablespaceId, "16385");
  EXPECT_EQ(manifest.targets[1].tablespaceName, "ts1");
  EXPECT_EQ(manifest.targets[1].path, ts.string());
  ASSERT_EQ(manifest.links.size(), 1u);
  EXPECT_EQ(manifest.links[0].name, "pg_data/pg_tblspc/16385");
  EXPECT_EQ(manifest.links[0].destination, ts.string());
  EXPECT_EQ(manifest.pathDefault->mode, "0700");
  EXPECT_EQ(manifest.fileDefault->mode, "0600");
  const ManifestFile* file = manifest.findFile("pg_tblspc/16385/PG_15_202209061/5/16600");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->size, 10u);
  EXPECT_FALSE(file->checksum);
}

ManifestFile file(const std::string& name, std::uint64_t size, std::int64_t timestamp,
                  std::optional<std::string> checksum = std::nullopt, std::optional<std::string> reference = std::nullopt) {
  ManifestFile result;
  result.name = name;
  result.size = size;
  result.timestamp = timestamp;
  result.checksum = std::move(checksum);
  result.reference = std::move(reference);
  return result;
}

TEST(ManifestCompareTest, ReferencesUnchangedFilesAndFindsDeltaReasons) {
  Manifest prior;
  prior.backup.label = "20261128-101010F";
  prior.backup.archiveStart = "000000010000000000000002";
  prior.files = {file("pg_data/a", 10, 100, "aa"), file("pg_data/b", 10, 100, "bb"),
                 file("pg_data/c", 10, 100, "cc", "20261127-101010F"), file("pg_data/e", 0, 100)};
  prior.files[0].repoChecksum = "ra";
  prior.files[0].repoSize = 30;
  const auto fresh = [] {
    Manifest manifest;
    manifest.backup.archiveStart = "000000010000000000000005";
    manifest.files = {file("pg_data/a", 10, 100), file("pg_data/b", 10, 101), file("pg_data/c", 10, 100),
                      file("pg_data/d", 5, 100), file("pg_data/e", 0, 150)};
    return manifest;
  };
  Manifest manifest = fresh();
  EXPECT_EQ(deltaReason(manifest, prior, 200), std::nullopt);

  Manifest incr = fresh();
  const std::vector<FileComparison> plain = compareWithPrior(incr, prior, false);
  EXPECT_EQ(plain[0].decision, FileDecision::Reference);
  EXPECT_EQ(incr.files[0].reference, "20261128-101010F");
  EXPECT_EQ(incr.files[0].checksum, "aa");
  EXPECT_EQ(incr.files[0].repoSize, 30u);
  EXPECT_EQ(plain[1].decision, FileDecision::Copy);
  EXPECT_EQ(plain[2].decision, FileDecision::Reference);
  EXPECT_EQ(incr.files[2].reference, "20261127-101010F");  // the backup that holds the bytes
  EXPECT_EQ(plain[3].decision, FileDecision::Copy);
  EXPECT_EQ(plain[4].decision, FileDecision::Reference);  // both empty

  Manifest delta = fresh();
  const std::vector<FileComparison> checked = compareWithPrior(delta, prior, true);
  EXPECT_EQ(checked[0].decision, FileDecision::Checksum);
  EXPECT_EQ(checked[0].priorChecksum, "aa");
  EXPECT_EQ(checked[1].decision, FileDecision::Checksum);
  EXPECT_EQ(checked[3].decision, FileDecision::Copy);

  manifest.files[1].timestamp = 99;
  EXPECT_NE(deltaReason(manifest, prior, 200)->find("timestamp earlier than prior"), std::string::npos);
  manifest.files[1].timestamp = 100;
  manifest.files[1].size = 11;
  EXPECT_NE(deltaReason(manifest, prior, 200)->find("same timestamp as prior but different size"), std::string::npos);
  manifest.files[1].size = 10;
  EXPECT_NE(deltaReason(manifest, prior, 120)->find("timestamp in the future"), std::string::npos);
  manifest.backup.archiveStart = "000000020000000000000005";
  EXPECT_NE(deltaReason(manifest, prior, 200)->find("timeline switch"), std::string::npos);
}

TEST(ManifestCompareTest, FilesReadOnlyUpToTheManifestSize) {
  EXPECT_TRUE(copyLimitedToManifestSize("pg_data/base/5/1259"));
  EXPECT_TRUE(copyLimitedToManifestSize("pg_data/global/1262"));
  EXPECT_FALSE(copyLimitedToManifestSize("pg_data/global/pg_control"));
  EXPECT_TRUE(copyLimitedToManifestSize("pg_data/pg_xact/0000"));
  EXPECT_TRUE(copyLimitedToManifestSize("pg_data/pg_multixact/offsets/0000"));
  EXPECT_TRUE(copyLimitedToManifestSize("pg_tblspc/16385/PG_15_202209061/5/16600"));
  EXPECT_FALSE(copyLimitedToManifestSize("pg_data/postgresql.auto.conf"));
}

}  // namespace
}  // namespace pgbr::backup
