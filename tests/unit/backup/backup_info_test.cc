#include "backup/backup_info.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "backup/format_error.h"
#include "backup/manifest.h"
#include "unit/backup/format_fixtures.h"

namespace pgbr::backup {
namespace {

constexpr const char* kEncBackupInfo = "plaintext/repo-enc/backup/demo/backup.info";
constexpr const char* kFull = "20261128-051344F";
constexpr const char* kDiff = "20261128-051344F_20261128-051356D";
constexpr const char* kIncr = "20261128-051344F_20261128-051359I";

BackupInfo loadFixture(const std::string& path) { return BackupInfo::parse(test::fixtureText(path), path); }

template <typename Error = FormatError>
std::string loadError(const std::string& text) {
  try {
    BackupInfo::parse(text, "backup.info");
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(BackupInfo, LoadsTheEncryptedRepoFile) {
  const BackupInfo info = loadFixture(kEncBackupInfo);
  ASSERT_TRUE(info.header.cipherPass.has_value());
  EXPECT_EQ(info.header.cipherPass->reveal(), test::vectorPassphrase("repo-enc.backup"));
  EXPECT_EQ(info.dbId, 1u);
  ASSERT_EQ(info.history.size(), 1u);
  EXPECT_EQ(info.current().catalogVersion, 202209061u);
  EXPECT_EQ(info.current().controlVersion, 1300u);
  EXPECT_EQ(info.current().systemId, 7713086177070084308u);
  EXPECT_EQ(info.current().version, "15");

  ASSERT_EQ(info.backups.size(), 3u);
  EXPECT_EQ(info.backups[0].label, kFull);
  EXPECT_EQ(info.backups[1].label, kDiff);
  EXPECT_EQ(info.backups[2].label, kIncr);

  const BackupInfoEntry& full = info.backups[0];
  EXPECT_EQ(full.type, BackupType::Full);
  EXPECT_FALSE(full.prior.has_value());
  EXPECT_FALSE(full.reference.has_value());
  EXPECT_EQ(full.archiveStart, "000000010000000000000003");
  EXPECT_EQ(full.archiveStop, "000000010000000000000004");
  EXPECT_EQ(full.lsnStart, "0/3000028");
  EXPECT_EQ(full.lsnStop, "0/4000050");
  EXPECT_EQ(full.error, false);
  EXPECT_EQ(full.size, 22992659u);
  EXPECT_EQ(full.repoSize, 3081984u);
  EXPECT_EQ(full.timestampStart, 1795842824);
  EXPECT_EQ(full.timestampStop, 1795842828);

  const BackupInfoEntry* incr = info.findBackup(kIncr);
  ASSERT_NE(incr, nullptr);
  EXPECT_EQ(incr->type, BackupType::Incr);
  EXPECT_EQ(incr->backrestFormat, 5u);
  EXPECT_EQ(incr->backrestVersion, "2.45");
  EXPECT_EQ(incr->prior, kDiff);
  EXPECT_EQ(incr->reference, (std::vector<std::string>{kFull, kDiff}));
  EXPECT_EQ(incr->sizeDelta, 18284810u);
  EXPECT_EQ(incr->repoSizeDelta, 1262608u);
  EXPECT_EQ(incr->dbId, 1u);
  EXPECT_TRUE(incr->optionArchiveCheck);
  EXPECT_FALSE(incr->optionArchiveCopy);
  EXPECT_EQ(incr->optionBackupStandby, false);
  EXPECT_EQ(incr->optionChecksumPage, true);
  EXPECT_TRUE(incr->optionCompress);
  EXPECT_FALSE(incr->optionHardlink);
  EXPECT_TRUE(incr->optionOnline);
  EXPECT_FALSE(incr->annotation.has_value());
  EXPECT_FALSE(incr->repoSizeMap.has_value());
  EXPECT_TRUE(incr->unknown.empty());
  EXPECT_EQ(info.findBackup("20200101-000000F"), nullptr);
}

TEST(BackupInfo, SavesPgBackRestBytes) {
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    if (fixture.kind != test::FormatFixtureKind::BackupInfo) continue;
    SCOPED_TRACE(fixture.path);
    const std::string text = test::fixtureText(fixture.path);
    EXPECT_EQ(BackupInfo::parse(text, fixture.path).render(), text);
  }
}

// FORMAT.md §4.3: the four size fields are sums over the backup's manifest.
TEST(BackupInfo, SizesAreManifestTotals) {
  int checked = 0;
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    if (fixture.kind != test::FormatFixtureKind::BackupInfo) continue;
    const BackupInfo info = loadFixture(fixture.path);
    const std::filesystem::path directory = std::filesystem::path(fixture.path).parent_path();
    for (const BackupInfoEntry& backup : info.backups) {
      const std::string manifestPath = (directory / backup.label / "backup.manifest").string();
      if (!std::filesystem::exists(test::vectorsPath(manifestPath))) continue;
      SCOPED_TRACE(manifestPath);
      const Manifest manifest = Manifest::parse(test::fixtureText(manifestPath), manifestPath);
      const Manifest::Totals totals = manifest.totals();
      EXPECT_EQ(totals.size, backup.size);
      EXPECT_EQ(totals.sizeDelta, backup.sizeDelta);
      EXPECT_EQ(totals.repoSize, backup.repoSize);
      EXPECT_EQ(totals.repoSizeDelta, backup.repoSizeDelta);
      EXPECT_EQ(manifest.backup.label, backup.label);
      EXPECT_EQ(manifest.backup.type, backup.type);
      EXPECT_EQ(manifest.backup.prior, backup.prior);
      EXPECT_EQ(manifest.backup.archiveStart, backup.archiveStart);
      EXPECT_EQ(manifest.backup.timestampStart, backup.timestampStart);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 8);  // repo-enc F, D, I (from backup.info and its copy), repo-none F, repo-plain F
}

TEST(BackupInfo, BackupsAreWrittenInLabelOrder) {
  BackupInfo info = loadFixture(kEncBackupInfo);
  std::reverse(info.backups.begin(), info.backups.end());
  EXPECT_EQ(info.render(), test::fixtureText(kEncBackupInfo));
}

TEST(BackupInfo, OptionalAndUnknownMembersSurvive) {
  std::string text = test::fixtureText(kEncBackupInfo);
  // An annotated, block-incremental offline full with a member from a later version.
  text = test::replaceOnce(
      text,
      "20261128-051344F={\"backrest-format\":5,\"backrest-version\":\"2.45\",\"backup-archive-start\":"
      "\"000000010000000000000003\",\"backup-archive-stop\":\"000000010000000000000004\",",
      "20261128-051344F={\"backrest-format\":5,\"backrest-version\":\"2.45\",\"backup-annotation\":{\"key\":"
      "\"value \\\"q\\\"\"},\"backup-info-future\":[],");
  text = test::replaceOnce(text, "\"backup-info-repo-size-delta\":3081984,",
                           "\"backup-info-repo-size-delta\":3081984,\"backup-info-repo-size-map\":7,"
                           "\"backup-info-repo-size-map-delta\":3,");
  text = test::replaceOnce(text, "\"backup-lsn-start\":\"0/3000028\",\"backup-lsn-stop\":\"0/4000050\",", "");
  text = test::replaceOnce(text, "\"backup-error\":false,\"backup-info-repo-size\":3081984",
                           "\"backup-info-repo-size\":3081984");
  text = test::replaceOnce(text, "db-catalog-version=202209061\n", "db-catalog-version=202209061\ndb-comment=\"x\"\n");
  text = test::replaceOnce(text, "\n[cipher]\n", "\n[backup:zzz]\nk=1\n\n[cipher]\n");
  text = test::reseal(text);

  const BackupInfo info = BackupInfo::parse(text, "backup.info");
  const BackupInfoEntry& full = info.backups[0];
  ASSERT_TRUE(full.annotation.has_value());
  EXPECT_EQ(full.annotation->at("key").asString(), "value \"q\"");
  EXPECT_EQ(full.repoSizeMap, 7u);
  EXPECT_EQ(full.repoSizeMapDelta, 3u);
  EXPECT_FALSE(full.archiveStart.has_value());
  EXPECT_FALSE(full.lsnStart.has_value());
  EXPECT_FALSE(full.error.has_value());
  EXPECT_EQ(full.unknown.at("backup-info-future"), JsonValue(JsonValue::Array{}));
  EXPECT_NE(info.unknown.find("db", "db-comment"), nullptr);
  EXPECT_NE(info.unknown.find("backup:zzz", "k"), nullptr);
  EXPECT_EQ(info.render(), text);
}

TEST(BackupInfo, InvalidContentIsRejected) {
  const std::string text = test::fixtureText(kEncBackupInfo);
  EXPECT_EQ(loadError(test::reseal(test::replaceOnce(text, "\"backup-type\":\"incr\"", "\"backup-type\":\"snap\""))),
            "invalid value for key 'backup-type' in section 'backup:current', key '" + std::string(kIncr) +
                "': unknown backup type 'snap'");
  EXPECT_EQ(loadError(test::reseal(test::replaceOnce(text, "\"backup-info-size\":22992659,", ""))),
            "required key 'backup-info-size' not found in section 'backup:current', key '20261128-051344F'");
  EXPECT_EQ(loadError<JsonFormatError>(test::reseal(
                test::replaceOnce(text, "\"backup-reference\":[\"20261128-051344F\"]", "\"backup-reference\":[1]"))),
            "invalid value for key 'backup-reference' in section 'backup:current', key '" + std::string(kDiff) +
                "': expected an array of labels");
  // Invalid JSON is found by the ini parser, before the checksum is looked at.
  const std::string bad =
      test::replaceOnce(text, "\"backup-timestamp-start\":1795842824,", "\"backup-timestamp-start\":-1.5,");
  const std::size_t lineStart = bad.find("20261128-051344F=");
  const std::string line = bad.substr(lineStart, bad.find('\n', lineStart) - lineStart);
  const std::size_t offset = line.find("-1.5") - line.find('=') - 1 + 2;
  EXPECT_EQ(loadError<JsonFormatError>(bad), "invalid value at line 6: " + line.substr(0, 80) +
                                                 "... (invalid JSON at offset " + std::to_string(offset) +
                                                 ": fractions and exponents are not supported)");
}

}  // namespace
}  // namespace pgbr::backup
