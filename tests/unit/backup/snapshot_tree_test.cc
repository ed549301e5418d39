// The data directory a backup manifest describes: a manifest written by pgBackRest 2.45 (the vectors), and made-up
// manifests for what the vectors lack (tablespaces, other links, unknown owners, odd modes).
#include "backup/snapshot_tree.h"

#include <pwd.h>

#include <gtest/gtest.h>

#include <string>

#include "backup/format_error.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

constexpr uid_t kFallbackUid = 4242;
constexpr gid_t kFallbackGid = 4343;

Manifest vectorManifest(const std::string& label) {
  const Bytes text = test::readFile(test::vectorsPath("plaintext/repo-enc/backup/demo/" + label + "/backup.manifest"));
  return Manifest::parse(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), label);
}

TEST(SnapshotTreeTest, PgBackRestManifestBecomesTheDataDirectory) {
  const SnapshotTree tree(vectorManifest("20261128-051344F"), "demo", kFallbackUid, kFallbackGid);
  const struct passwd* postgres = ::getpwnam("postgres");
  const uid_t expectedUid = postgres != nullptr ? postgres->pw_uid : kFallbackUid;

  const SnapshotEntry* root = tree.find("");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->type, SnapshotEntry::Type::Directory);
  EXPECT_EQ(root->mode, 0700u);
  EXPECT_EQ(root->uid, expectedUid);
  EXPECT_TRUE(std::is_sorted(root->children.begin(), root->children.end()));
  for (const char* name : {"PG_VERSION", "backup_label", "base", "global", "pg_wal", "pg_tblspc", "postgresql.conf"})
    EXPECT_TRUE(std::binary_search(root->children.begin(), root->children.end(), std::string(name))) << name;

  const SnapshotEntry* version = tree.find("PG_VERSION");
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version->type, SnapshotEntry::Type::File);
  EXPECT_EQ(version->size, 3u);
  EXPECT_EQ(version->mode, 0600u);
  EXPECT_EQ(version->uid, expectedUid);
  EXPECT_EQ(version->mtime, 1795842819);
  const StoredBackupFile stored = tree.stored(*version);
  EXPECT_EQ(stored.repoPath, "backup/demo/20261128-051344F/pg_data/PG_VERSION.gz");
  EXPECT_EQ(stored.checksum, "587b596f04f7db9c2cad3d6b87dd2b3a05de4f35");

  // Excluded contents, recorded directories: present and empty.
  const SnapshotEntry* wal = tree.find("pg_wal");
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(wal->type, SnapshotEntry::Type::Directory);
  EXPECT_EQ(wal->children, std::vector<std::string>{"archive_status"});
  EXPECT_TRUE(tree.find("pg_wal/archive_status")->children.empty());
  EXPECT_NE(tree.find("base/1/112"), nullptr);
  EXPECT_EQ(tree.find("base/1/nonexistent"), nullptr);
  EXPECT_EQ(tree.find("tablespace_map"), nullptr);
  // Every entry has its own inode number.
  EXPECT_NE(tree.find("base")->inode, tree.find("global")->inode);
}

TEST(SnapshotTreeTest, IncrementalFilesPointAtTheBackupThatHoldsThem) {
  const SnapshotTree tree(vectorManifest("20261128-051344F_20261128-051359I"), "demo", kFallbackUid, kFallbackGid);
  EXPECT_EQ(tree.stored(*tree.find("base/1/112")).repoPath, "backup/demo/20261128-051344F/pg_data/base/1/112.gz");
  EXPECT_EQ(tree.stored(*tree.find("backup_label")).repoPath,
            "backup/demo/20261128-051344F_20261128-051359I/pg_data/backup_label.gz");
}

Manifest madeUpManifest() {
  Manifest manifest;
  manifest.backup.label = "20260101-000000F";
  manifest.backup.timestampStart = 1767225600;
  manifest.options.compressType = "lz4";
  manifest.targets.push_back(ManifestTarget{"pg_data", {}, "/pg", {}, {}, "path", {}});
  manifest.targets.push_back(ManifestTarget{"pg_data/pg_wal", {}, "/wal", {}, {}, "link", {}});
  manifest.targets.push_back(ManifestTarget{"pg_tblspc/16385", {}, "/ts1", "16385", "ts1", "link", {}});
  manifest.links.push_back(ManifestLink{"pg_data/pg_tblspc/16385", "/ts1", {}, ManifestOwner{"nobody-here-xyz"}, {}});
  manifest.links.push_back(ManifestLink{"pg_data/pg_wal", "/wal", {}, {}, {}});
  manifest.pathDefault = ManifestDefaults{ManifestOwner{std::nullopt}, "0700", ManifestOwner{"nobody-here-xyz"}};
  manifest.fileDefault = ManifestDefaults{ManifestOwner{std::nullopt}, "0600", ManifestOwner{"nobody-here-xyz"}};
  for (const char* path : {"pg_data", "pg_data/pg_tblspc", "pg_data/pg_wal", "pg_tblspc", "pg_tblspc/16385",
                           "pg_tblspc/16385/PG_15_202209061", "pg_tblspc/16385/PG_15_202209061/5"})
    manifest.paths.push_back(ManifestPath{path, {}, {}, {}, {}});
  manifest.paths.push_back(ManifestPath{"pg_data/base", {}, "0750", {}, {}});
  for (const char* name : {"pg_data/PG_VERSION", "pg_data/tablespace_map", "pg_tblspc/16385/PG_15_202209061/5/16386",
                           "pg_data/base/1/1259"}) {
    ManifestFile file;
    file.name = name;
    file.size = 8192;
    file.timestamp = 1767225000;
    manifest.files.push_back(file);
  }
  manifest.files.back().mode = "0640";
  return manifest;
}

TEST(SnapshotTreeTest, TablespacesAreRelativeLinksIntoTheTree) {
  const SnapshotTree tree(madeUpManifest(), "demo", kFallbackUid, kFallbackGid);
  const SnapshotEntry* link = tree.find("pg_tblspc/16385");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, SnapshotEntry::Type::Link);
  EXPECT_EQ(link->linkTarget, "../pgbrfs_tblspc/16385");
  EXPECT_EQ(link->size, link->linkTarget.size());
  EXPECT_EQ(tree.find("pg_tblspc")->children, std::vector<std::string>{"16385"});
  const SnapshotEntry* relation = tree.find("pgbrfs_tblspc/16385/PG_15_202209061/5/16386");
  ASSERT_NE(relation, nullptr);
  EXPECT_EQ(relation->type, SnapshotEntry::Type::File);
  EXPECT_EQ(tree.stored(*relation).repoPath, "backup/demo/20260101-000000F/pg_tblspc/16385/PG_15_202209061/5/16386.lz4");
  EXPECT_EQ(tree.find("pgbrfs_tblspc")->type, SnapshotEntry::Type::Directory);
  // Other links are shown as what they point to (pgbackrest restore without --link-all).
  EXPECT_EQ(tree.find("pg_wal")->type, SnapshotEntry::Type::Directory);
  EXPECT_EQ(tree.find("tablespace_map"), nullptr);
}

TEST(SnapshotTreeTest, OwnersModesAndImplicitDirectories) {
  const SnapshotTree tree(madeUpManifest(), "demo", kFallbackUid, kFallbackGid);
  const SnapshotEntry* version = tree.find("PG_VERSION");
  EXPECT_EQ(version->uid, kFallbackUid);  // a user this system does not have
  EXPECT_EQ(version->gid, kFallbackGid);  // group `false` in the manifest
  EXPECT_EQ(version->mtime, 1767225000);
  EXPECT_EQ(tree.find("base/1/1259")->mode, 0640u);
  EXPECT_EQ(tree.find("base")->mode, 0750u);
  // base/1 is not in the manifest's paths: made, like its parent.
  const SnapshotEntry* implicit = tree.find("base/1");
  ASSERT_NE(implicit, nullptr);
  EXPECT_EQ(implicit->mode, 0750u);
  EXPECT_EQ(implicit->mtime, 1767225600);

  Manifest bad = madeUpManifest();
  bad.files.back().mode = "0x1";
  EXPECT_THROW(SnapshotTree(std::move(bad), "demo", 0, 0), FormatError);
  Manifest outside = madeUpManifest();
  outside.files.back().name = "elsewhere/file";
  EXPECT_THROW(SnapshotTree(std::move(outside), "demo", 0, 0), FormatError);
}

TEST(SnapshotTreeTest, ManifestNamesMapToSnapshotPaths) {
  EXPECT_EQ(snapshotPathOf("pg_data"), "");
  EXPECT_EQ(snapshotPathOf("pg_data/global/pg_control"), "global/pg_control");
  EXPECT_EQ(snapshotPathOf("pg_tblspc"), "pgbrfs_tblspc");
  EXPECT_EQ(snapshotPathOf("pg_tblspc/1/PG_15_x"), "pgbrfs_tblspc/1/PG_15_x");
  EXPECT_EQ(snapshotPathOf("pg_datax/a"), std::nullopt);
  EXPECT_EQ(snapshotPathOf("other"), std::nullopt);
}

}  // namespace
}  // namespace pgbr::backup
