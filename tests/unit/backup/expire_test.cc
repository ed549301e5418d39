#include "backup/expire.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "backup/backup_info.h"
#include "backup/info_file_loader.h"
#include "backup/stanza_info.h"
#include "unit/backup/archive_test_support.h"

// The cases name only the options they set (designated initializers); the rest keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace pgbr::backup {
namespace {

using namespace test_archive;
namespace fs = std::filesystem;

constexpr const char* kF1 = "20260101-000000F";
constexpr const char* kD1 = "20260101-000000F_20260102-000000D";
constexpr const char* kI1 = "20260101-000000F_20260102-010000I";
constexpr const char* kF2 = "20260103-000000F";
constexpr const char* kD2 = "20260103-000000F_20260104-000000D";
constexpr const char* kF3 = "20260105-000000F";

std::string segment(unsigned number) {
  char name[25];
  std::snprintf(name, sizeof(name), "00000001000000000000%04X", number);
  return name;
}

// A plaintext stanza "demo": F1 D1 I1 F2 D2 F3 (WAL 02, 04, 05, 07, 09, 0B each), WAL segments 01..0D archived,
// timeline history 00000001.history, backup.history manifests.
struct ExpireFixture {
  ArchiveFixture base;
  PosixStorage& repo = base.storage;
  CommandLog log;
  fs::path root = base.repoRoot;

  ExpireFixture() {
    BackupInfo info;
    info.dbId = 1;
    info.history.push_back(BackupHistoryEntry{1, 202209061, 1300, kSystemId, "15", {}});
    addBackup(info, kF1, BackupType::Full, std::nullopt, 2, 1000);
    addBackup(info, kD1, BackupType::Diff, kF1, 4, 2000);
    addBackup(info, kI1, BackupType::Incr, kD1, 5, 3000);
    addBackup(info, kF2, BackupType::Full, std::nullopt, 7, 4000);
    addBackup(info, kD2, BackupType::Diff, kF2, 9, 5000);
    addBackup(info, kF3, BackupType::Full, std::nullopt, 11, 6000);
    saveBackupInfo(info);
    const std::string archiveText = archiveInfoFor().render();
    repo.put("archive/demo/archive.info", asBytes(archiveText));
    repo.put("archive/demo/archive.info.copy", asBytes(archiveText));
    for (unsigned number = 1; number <= 13; ++number) repo.put(walPath(number), asBytes(std::string("wal")));
    repo.put("archive/demo/15-1/00000001.history", asBytes(std::string("history")));
  }

  static std::string walPath(unsigned number) {
    return "archive/demo/15-1/0000000100000000/" + segment(number) + "-" + std::string(40, 'a') + ".gz";
  }

  void addBackup(BackupInfo& info, const std::string& label, BackupType type, std::optional<std::string> prior,
                 unsigned wal, std::int64_t stop) {
    BackupInfoEntry entry;
    entry.label = label;
    entry.backrestVersion = "2.45";
    entry.type = type;
    entry.prior = prior;
    if (prior) entry.reference = std::vector<std::string>{label.substr(0, 16)};
    entry.archiveStart = segment(wal);
    entry.archiveStop = segment(wal);
    entry.timestampStart = stop - 10;
    entry.timestampStop = stop;
    entry.dbId = 1;
    info.backups.push_back(entry);
    for (const char* file : {"backup.manifest", "backup.manifest.copy", "pg_data/PG_VERSION.gz"})
      repo.put("backup/demo/" + label + "/" + file, asBytes(std::string("x")));
    repo.put("backup/demo/backup.history/2026/" + label + ".manifest.gz", asBytes(std::string("x")));
  }

  void saveBackupInfo(const BackupInfo& info) {
    const std::string text = info.render();
    repo.put("backup/demo/backup.info", asBytes(text));
    repo.put("backup/demo/backup.info.copy", asBytes(text));
  }

  std::vector<std::string> backupsInInfo() {
    std::vector<std::string> labels;
    for (const BackupInfoEntry& entry : loadBackupInfo("backup/demo/backup.info", plainInfoReader(repo)).backups)
      labels.push_back(entry.label);
    return labels;
  }
  std::vector<std::string> backupDirs() {
    std::vector<std::string> labels;
    const std::vector<std::string> names = *repo.list("backup/demo");
    for (const std::string& name : names)
      if (BackupLabel::isValid(name)) labels.push_back(name);
    return labels;
  }
  std::vector<unsigned> walLeft() {
    std::vector<unsigned> left;
    for (unsigned number = 1; number <= 13; ++number)
      if (repo.info(walPath(number))) left.push_back(number);
    return left;
  }
  ExpireResult expire(ExpireOptions options) { return expireStanza(repo, "demo", options, log); }
};

TEST(Expire, RetentionFullExpiresOldestSetsWithDependentsAndTheirWal) {
  ExpireFixture fixture;
  const ExpireResult result = fixture.expire({.retentionFull = 2});
  const std::vector<std::string> kept{kF2, kD2, kF3};
  EXPECT_EQ(fixture.backupsInInfo(), kept);
  EXPECT_EQ(fixture.backupDirs(), kept);
  EXPECT_EQ(result.expiredBackups, (std::vector<std::string>{kF1, kD1, kI1}));
  EXPECT_EQ(result.removedBackupPaths, (std::vector<std::string>{kF1, kD1, kI1}));
  // Archive retention defaults to 2 fulls: everything from F2's start on stays.
  EXPECT_EQ(fixture.walLeft(), (std::vector<unsigned>{7, 8, 9, 10, 11, 12, 13}));
  EXPECT_EQ(result.removedWalFiles, 6u);
  EXPECT_EQ(*fixture.repo.get("backup/demo/backup.info"), *fixture.repo.get("backup/demo/backup.info.copy"));
  // backup.history is kept (repo1-retention-history unset).
  EXPECT_TRUE(fixture.repo.info(std::string("backup/demo/backup.history/2026/") + kF1 + ".manifest.gz"));
  EXPECT_TRUE(fixture.repo.info("archive/demo/15-1/00000001.history"));
}

TEST(Expire, RetentionDiffCountsFullsButExpiresOnlyDiffs) {
  ExpireFixture fixture;
  const ExpireResult result = fixture.expire({.retentionFull = 3, .retentionDiff = 1});
  EXPECT_EQ(fixture.backupsInInfo(), (std::vector<std::string>{kF1, kF2, kF3}));
  EXPECT_EQ(result.expiredBackups, (std::vector<std::string>{kD1, kI1, kD2}));
  // Archive retention = 3 fulls: the oldest full F1 anchors it, nothing older than its start goes.
  EXPECT_EQ(fixture.walLeft(), (std::vector<unsigned>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
}

TEST(Expire, ArchiveRetentionKeepsWhatOlderBackupsNeedForConsistency) {
  ExpireFixture fixture;
  fixture.expire({.retentionFull = 3, .retentionArchive = 1, .retentionArchiveType = BackupType::Diff});
  EXPECT_EQ(fixture.backupsInInfo().size(), 6u);
  EXPECT_EQ(fixture.walLeft(), (std::vector<unsigned>{2, 4, 5, 7, 9, 11, 12, 13}));
}

TEST(Expire, ArchiveRetentionIncrCountsEveryBackup) {
  ExpireFixture fixture;
  fixture.expire({.retentionFull = 3, .retentionArchive = 3, .retentionArchiveType = BackupType::Incr});
  // Newest three: F3, D2, F2; F2 anchors, F1 D1 I1 keep their own start..stop.
  EXPECT_EQ(fixture.walLeft(), (std::vector<unsigned>{2, 4, 5, 7, 8, 9, 10, 11, 12, 13}));
}

TEST(Expire, AdhocExpiresOneSetAndRefusesTheOnlyFull) {
  ExpireFixture fixture;
  const ExpireResult result = fixture.expire({.set = std::string(kD1)});
  EXPECT_EQ(result.expiredBackups, (std::vector<std::string>{kD1, kI1}));
  EXPECT_EQ(fixture.backupsInInfo(), (std::vector<std::string>{kF1, kF2, kD2, kF3}));
  EXPECT_EQ(fixture.walLeft().size(), 13u);  // no archive retention set
  fixture.expire({.set = std::string(kF1)});
  fixture.expire({.set = std::string(kF2)});
  std::string message;
  EXPECT_EQ(commandErrorOf([&] { fixture.expire({.set = std::string(kF3)}); }, &message), ErrorCode::BackupSetInvalid);
  EXPECT_EQ(message, std::string("full backup ") + kF3 +
                         " cannot be expired until another full backup has been created on this repo");
  EXPECT_EQ(fixture.backupsInInfo(), (std::vector<std::string>{kF3}));
  EXPECT_EQ(commandErrorOf([&] { fixture.expire({.set = std::string("bogus")}); }), ErrorCode::OptionInvalidValue);
  EXPECT_TRUE(fixture.expire({.set = std::string("20200101-000000F")}).adhocBackupMissing);
}

TEST(Expire, AdhocOfTheLatestFullWhenAnOlderOneExistsMovesLatest) {
  ExpireFixture fixture;
  fixture.expire({.set = std::string(kF3)});
  EXPECT_EQ(fixture.backupsInInfo().back(), kD2);
  EXPECT_EQ(fs::read_symlink(fixture.root / "backup/demo/latest").string(), kD2);
}

TEST(Expire, TimeBasedKeepsTheNewestFullOlderThanThePeriod) {
  ExpireFixture fixture;
  // now - 1 day = 86400 + 4500: F2 (stop 4000) is the newest full older than that; F1's set goes.
  const ExpireResult result =
      fixture.expire({.retentionFull = 1, .retentionFullType = RetentionFullType::Time, .now = 86400 + 4500});
  EXPECT_EQ(result.expiredBackups, (std::vector<std::string>{kF1, kD1, kI1}));
  // Archive retention becomes the 2 remaining fulls.
  EXPECT_EQ(fixture.walLeft().front(), 7u);
}

TEST(Expire, StrayLabelDirectoriesAndMissingManifestsGo) {
  ExpireFixture fixture;
  fixture.repo.put("backup/demo/20200101-000000F/notes.txt", asBytes(std::string("x")));
  fixture.repo.remove(std::string("backup/demo/") + kD2 + "/backup.manifest");
  fixture.repo.put("backup/demo/not-a-label/keep.txt", asBytes(std::string("x")));
  fixture.expire({.retentionFull = 3});
  EXPECT_EQ(fixture.backupDirs(), (std::vector<std::string>{kF1, kD1, kI1, kF2, kF3}));
  EXPECT_TRUE(fixture.repo.info("backup/demo/not-a-label/keep.txt"));
}

TEST(Expire, RetentionHistoryRemovesOldManifestsOfExpiredBackupsOnly) {
  ExpireFixture fixture;
  fixture.expire({.retentionFull = 2});  // F1 D1 I1 expired, their history manifests kept
  const std::string history = "backup/demo/backup.history/2026/";
  EXPECT_TRUE(fixture.repo.info(history + kF1 + ".manifest.gz"));
  // 2026-06-01: everything older than 30 days, but only expired backups lose their history manifest.
  const ExpireResult result = fixture.expire({.retentionFull = 2, .retentionHistory = 30, .now = 1780272000});
  EXPECT_EQ(result.removedHistoryManifests, (std::vector<std::string>{std::string("2026/") + kI1 + ".manifest.gz",
                                                                      std::string("2026/") + kD1 + ".manifest.gz",
                                                                      std::string("2026/") + kF1 + ".manifest.gz"}));
  EXPECT_FALSE(fixture.repo.info(history + kF1 + ".manifest.gz"));
  EXPECT_TRUE(fixture.repo.info(history + kF2 + ".manifest.gz"));
}

TEST(Expire, DryRunChangesNothing) {
  ExpireFixture fixture;
  const auto before = fixture.base.snapshot();
  const ExpireResult result = fixture.expire({.retentionFull = 1, .dryRun = true});
  EXPECT_EQ(result.expiredBackups.size(), 5u);
  EXPECT_EQ(fixture.base.snapshot(), before);
}

TEST(Expire, ArchiveIdsWithoutBackupsAreRemovedUnlessCurrent) {
  ExpireFixture fixture;
  // A second cluster (history 2) becomes current; 15-1 keeps F3 only after retention-full=1 ... then F3 goes too
  // when a backup of 15-2 exists.
  ArchiveInfo archive = archiveInfoFor();
  archive.history.push_back(ArchiveHistoryEntry{2, kSystemId + 1, "15", {}});
  archive.dbId = 2;
  const std::string archiveText = archive.render();
  fixture.repo.put("archive/demo/archive.info", asBytes(archiveText));
  fixture.repo.put("archive/demo/archive.info.copy", asBytes(archiveText));
  BackupInfo info = loadBackupInfo("backup/demo/backup.info", plainInfoReader(fixture.repo));
  info.history.push_back(BackupHistoryEntry{2, 202209061, 1300, kSystemId + 1, "15", {}});
  info.dbId = 2;
  fixture.addBackup(info, "20260201-000000F", BackupType::Full, std::nullopt, 3, 9000);
  info.backups.back().dbId = 2;
  fixture.saveBackupInfo(info);
  fixture.repo.put("archive/demo/15-2/0000000100000000/" + segment(3) + "-" + std::string(40, 'b') + ".gz",
                   asBytes(std::string("wal")));
  const ExpireResult result = fixture.expire({.retentionFull = 1});
  EXPECT_EQ(result.removedArchiveIds, (std::vector<std::string>{"15-1"}));
  EXPECT_FALSE(fixture.repo.info("archive/demo/15-1"));
  EXPECT_TRUE(fixture.repo.info("archive/demo/15-2/0000000100000000"));
  EXPECT_EQ(fixture.backupsInInfo(), (std::vector<std::string>{"20260201-000000F"}));
}

TEST(Expire, MismatchedHistoryListsStopArchiveExpiration) {
  ExpireFixture fixture;
  const std::string archiveText = archiveInfoFor(kSystemId + 5).render();
  fixture.repo.put("archive/demo/archive.info", asBytes(archiveText));
  fixture.repo.put("archive/demo/archive.info.copy", asBytes(archiveText));
  std::string message;
  EXPECT_EQ(commandErrorOf([&] { fixture.expire({.retentionFull = 2}); }, &message), ErrorCode::Format);
  EXPECT_EQ(message, "archive expiration cannot continue - archive and backup history lists do not match");
  EXPECT_EQ(fixture.walLeft().size(), 13u);
}

}  // namespace
}  // namespace pgbr::backup
