#include "backup/manifest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "backup/format_error.h"
#include "unit/backup/format_fixtures.h"

namespace pgbr::backup {
namespace {

constexpr const char* kFullManifest = "plaintext/repo-enc/backup/demo/20261128-051344F/backup.manifest";
constexpr const char* kDiffManifest = "plaintext/repo-enc/backup/demo/20261128-051344F_20261128-051356D/backup.manifest";
constexpr const char* kIncrManifest = "plaintext/repo-enc/backup/demo/20261128-051344F_20261128-051359I/backup.manifest";
constexpr const char* kHistoryManifest = "plaintext/repo-enc/backup/demo/backup.history/2026/20261128-051344F.manifest";
constexpr const char* kPlainManifest = "repo-plain/backup/demo/20261128-051348F/backup.manifest";
constexpr const char* kNoneManifest = "plaintext/repo-none/backup/demo/20261128-051352F/backup.manifest";
constexpr const char* kFull = "20261128-051344F";
constexpr const char* kDiff = "20261128-051344F_20261128-051356D";
constexpr const char* kIncr = "20261128-051344F_20261128-051359I";

Manifest loadFixture(const std::string& path) { return Manifest::parse(test::fixtureText(path), path); }

template <typename Error = FormatError>
std::string loadError(const std::string& text) {
  try {
    Manifest::parse(text, "backup.manifest");
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(Manifest, SavesPgBackRestBytes) {
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    if (fixture.kind != test::FormatFixtureKind::Manifest) continue;
    SCOPED_TRACE(fixture.path);
    const std::string text = test::fixtureText(fixture.path);
    const Manifest manifest = Manifest::parse(text, fixture.path);
    EXPECT_TRUE(manifest.unknown.empty());
    EXPECT_EQ(manifest.render(), text);
  }
}

TEST(Manifest, LoadsTheIncrementalBackup) {
  const Manifest manifest = loadFixture(kIncrManifest);
  EXPECT_EQ(manifest.backup.label, kIncr);
  EXPECT_EQ(manifest.backup.type, BackupType::Incr);
  EXPECT_EQ(manifest.backup.prior, kDiff);
  EXPECT_EQ(manifest.referenceList(), (std::vector<std::string>{kFull, kDiff, kIncr}));
  EXPECT_EQ(manifest.backup.archiveStart, "00000001000000000000000C");
  EXPECT_EQ(manifest.backup.lsnStop, "0/C000100");
  EXPECT_EQ(manifest.backup.timestampCopyStart, 1795842841);
  EXPECT_EQ(manifest.backup.timestampStart, 1795842839);
  EXPECT_EQ(manifest.backup.timestampStop, 1795842841);
  EXPECT_FALSE(manifest.backup.bundle.has_value());

  EXPECT_EQ(manifest.backupDb.catalogVersion, 202209061u);
  EXPECT_EQ(manifest.backupDb.controlVersion, 1300u);
  EXPECT_EQ(manifest.backupDb.id, 1u);
  EXPECT_EQ(manifest.backupDb.systemId, 7713086177070084308u);
  EXPECT_EQ(manifest.backupDb.version, "15");

  EXPECT_TRUE(manifest.options.archiveCheck);
  EXPECT_FALSE(manifest.options.archiveCopy);
  EXPECT_EQ(manifest.options.bufferSize, 1048576u);
  EXPECT_EQ(manifest.options.compressLevel, 6u);
  EXPECT_EQ(manifest.options.compressLevelNetwork, 3u);
  EXPECT_EQ(manifest.options.compressType, "gz");
  EXPECT_EQ(manifest.options.delta, false);
  EXPECT_TRUE(manifest.options.online);
  EXPECT_EQ(manifest.options.processMax, 1u);

  ASSERT_TRUE(manifest.header.cipherPass.has_value());
  EXPECT_EQ(manifest.header.cipherPass->reveal(), test::vectorPassphrase("repo-enc.manifest.20261128-051344F"));

  ASSERT_EQ(manifest.targets.size(), 1u);
  EXPECT_EQ(manifest.targets[0].name, "pg_data");
  EXPECT_EQ(manifest.targets[0].path, "/var/lib/postgresql/15/demo");
  EXPECT_EQ(manifest.targets[0].type, "path");

  ASSERT_EQ(manifest.databases.size(), 3u);
  EXPECT_EQ(manifest.databases[0].name, "postgres");
  EXPECT_EQ(manifest.databases[0].id, 5u);
  EXPECT_EQ(manifest.databases[0].lastSystemId, 4u);

  ASSERT_TRUE(manifest.fileDefault.has_value());
  EXPECT_EQ(manifest.fileDefault->user, ManifestOwner{"postgres"});
  EXPECT_EQ(manifest.fileDefault->group, ManifestOwner{"postgres"});
  EXPECT_EQ(manifest.fileDefault->mode, "0600");
  ASSERT_TRUE(manifest.pathDefault.has_value());
  EXPECT_EQ(manifest.pathDefault->mode, "0700");
  EXPECT_FALSE(manifest.linkDefault.has_value());
  EXPECT_TRUE(manifest.links.empty());
  EXPECT_FALSE(manifest.annotation.has_value());
  EXPECT_EQ(manifest.files.size(), 982u);
  EXPECT_EQ(manifest.paths.size(), 26u);
  EXPECT_EQ(manifest.paths[0].name, "pg_data");
}

// vectors/README.md: sha1(repo file) = rck 79ee9f4e…, repo-size 112, checksum 9890dd22…, size 8192.
TEST(Manifest, ReferencedFileLocatesInTheFullBackup) {
  const Manifest manifest = loadFixture(kIncrManifest);
  const ManifestFile* file = manifest.findFile("pg_data/base/1/112");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->checksum, "9890dd22d170e0de4f4d9404aba2557a33b9909b");
  EXPECT_EQ(file->repoChecksum, "79ee9f4ea9cb2ba76d75f4486ed1f183adf4c080");
  EXPECT_EQ(file->repoSize, 112u);
  EXPECT_EQ(file->size, 8192u);
  EXPECT_EQ(file->timestamp, 1795842819);
  EXPECT_EQ(file->checksumPage, true);
  EXPECT_EQ(file->reference, kFull);
  EXPECT_FALSE(file->user.has_value());
  EXPECT_FALSE(file->mode.has_value());
  EXPECT_EQ(manifest.repoPath(*file, ".gz"), "20261128-051344F/pg_data/base/1/112.gz");
  EXPECT_EQ(manifest.fileLocation(*file, ".gz"), (ManifestFileLocation{"20261128-051344F/pg_data/base/1/112.gz", 0, 112}));

  // Stored in this backup: no reference.
  const ManifestFile* label = manifest.findFile("pg_data/backup_label");
  ASSERT_NE(label, nullptr);
  EXPECT_FALSE(label->reference.has_value());
  EXPECT_EQ(manifest.repoPath(*label, ".gz"), std::string(kIncr) + "/pg_data/backup_label.gz");
  EXPECT_EQ(manifest.repoPath(*label, ""), std::string(kIncr) + "/pg_data/backup_label");

  // Empty file: no checksum (implied SHA-1 of nothing), still stored (48 bytes of encrypted empty gzip).
  const ManifestFile* empty = manifest.findFile("pg_data/base/1/13394");
  ASSERT_NE(empty, nullptr);
  EXPECT_FALSE(empty->checksum.has_value());
  EXPECT_EQ(empty->size, 0u);
  EXPECT_EQ(empty->storedSize(), 48u);
  EXPECT_EQ(manifest.findFile("pg_data/nope"), nullptr);

  // References always name the backup holding the bytes: the full or the diff, never an incr before this one.
  std::set<std::string> references;
  for (const ManifestFile& each : manifest.files)
    if (each.reference) references.insert(*each.reference);
  EXPECT_EQ(references, (std::set<std::string>{kFull, kDiff}));
}

TEST(Manifest, OtherRepositories) {
  const Manifest plain = loadFixture(kPlainManifest);
  EXPECT_FALSE(plain.header.cipherPass.has_value());
  EXPECT_EQ(plain.referenceList(), (std::vector<std::string>{"20261128-051348F"}));
  EXPECT_FALSE(plain.backup.prior.has_value());

  const Manifest none = loadFixture(kNoneManifest);
  EXPECT_EQ(none.header.cipherPass->reveal(), test::vectorPassphrase("repo-none.manifest.20261128-051352F"));
  EXPECT_EQ(none.options.compressType, "none");
  EXPECT_FALSE(none.options.compress);
  EXPECT_EQ(none.options.compressLevel, 0u);
  const ManifestFile* empty = none.findFile("pg_data/base/1/13394");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->storedSize(), 32u);  // one padding block after the header
  EXPECT_EQ(none.repoPath(*empty, ""), "20261128-051352F/pg_data/base/1/13394");

  // The backup.history copy is the final manifest of the full backup.
  EXPECT_EQ(test::fixtureText(kHistoryManifest), test::fixtureText(kFullManifest));
}

TEST(Manifest, Paths) {
  const BackupLabel label = BackupLabel::parseOrThrow(kIncr);
  EXPECT_EQ(Manifest::manifestPath(label), std::string(kIncr) + "/backup.manifest");
  EXPECT_EQ(Manifest::historyPath(BackupLabel::parseOrThrow(kFull)), "backup.history/2026/20261128-051344F.manifest.gz");
  EXPECT_EQ(Manifest::historyPath(label), "backup.history/2026/" + std::string(kIncr) + ".manifest.gz");
}

TEST(Manifest, EntriesAreWrittenInNameOrder) {
  Manifest manifest = loadFixture(kDiffManifest);
  std::mt19937 random(42);
  std::shuffle(manifest.files.begin(), manifest.files.end(), random);
  std::shuffle(manifest.paths.begin(), manifest.paths.end(), random);
  std::reverse(manifest.databases.begin(), manifest.databases.end());
  EXPECT_EQ(manifest.render(), test::fixtureText(kDiffManifest));
}

// Sections and members the samples do not have: tablespaces, links, owners without a name, modes, bundles, block
// incremental, page checksum errors, annotations, a name with '=', '"' and '\', and things from the future.
std::string featureManifest() {
  std::string text = test::fixtureText(kFullManifest);
  text = test::replaceOnce(text, "backup-archive-stop=\"000000010000000000000004\"\n",
                           "backup-archive-stop=\"000000010000000000000004\"\nbackup-block-incr=true\n"
                           "backup-bundle=true\nbackup-bundle-raw=true\n");
  text = test::replaceOnce(text, "backup-type=\"full\"\n", "backup-type=\"full\"\nbackup-zzz=1\n");
  text = test::replaceOnce(text, "pg_data={\"path\":\"/var/lib/postgresql/15/demo\",\"type\":\"path\"}\n",
                           "pg_data={\"path\":\"/var/lib/postgresql/15/demo\",\"type\":\"path\"}\n"
                           "pg_data/pg_hba.conf={\"file\":\"pg_hba.conf\",\"path\":\"/etc/postgresql\",\"type\":\"link\"}\n"
                           "pg_tblspc/16385={\"path\":\"/srv/ts1\",\"tablespace-id\":\"16385\",\"tablespace-name\":"
                           "\"ts1\",\"type\":\"link\"}\n");
  text = test::replaceOnce(text, "\n[target:file]\n",
                           "\n[metadata]\nannotation={\"owner\":\"ops\",\"ticket\":\"T-1\"}\n\n[target:file]\n");
  text = test::replaceOnce(
      text, "pg_data/PG_VERSION={",
      "pg_data/A=weird={\"size\":0,\"timestamp\":1}\n"
      "pg_data/PG_VERSION={");
  text = test::replaceOnce(
      text, "pg_data/base/5/174={",
      "pg_data/base/5/16400={\"bi\":2,\"bic\":7,\"bim\":45,\"bni\":3,\"bno\":1024,\"checksum\":"
      "\"0123456789abcdef0123456789abcdef01234567\",\"checksum-page\":false,\"checksum-page-error\":[1,[3,5],9],"
      "\"group\":false,\"mode\":\"0640\",\"rck\":\"89abcdef0123456789abcdef0123456789abcdef\",\"repo-size\":4000,"
      "\"size\":16384,\"szo\":16000,\"timestamp\":1795842820,\"user\":\"alice\"}\n"
      "pg_data/base/5/16401={\"bi\":1,\"bim\":12,\"size\":32768,\"timestamp\":1795842820}\n"
      "pg_data/base/5/174={");
  text = test::replaceOnce(text, "\n[target:file:default]\n",
                           "\npg_data/we=ird\"na\\me.txt={\"size\":3,\"timestamp\":1795842819}\n\n[target:file:default]\n");
  text = test::replaceOnce(text, "\n[target:path]\n",
                           "\n[target:link]\npg_data/pg_hba.conf={\"destination\":\"/etc/postgresql/pg_hba.conf\","
                           "\"group\":false}\npg_data/pg_tblspc/16385={\"destination\":\"/srv/ts1\",\"user\":\"bob\"}\n"
                           "\n[target:link:default]\ngroup=\"postgres\"\nuser=\"postgres\"\n\n[target:path]\n");
  text = test::replaceOnce(text, "pg_data/global={}\n", "pg_data/global={\"group\":false,\"mode\":\"0750\",\"user\":\"carol\"}\n");
  text = test::replaceOnce(text, "\n[target:path:default]\n", "\n[target:path:default]\ncolor=\"blue\"\n");
  text += "\n[zzz:future]\nk={\"a\":[]}\n";  // after the checksum section: it must move before it when saved
  return text;
}

TEST(Manifest, EveryFeatureLoadsAndSavesByteForByte) {
  const std::string input = featureManifest();
  const Manifest manifest = Manifest::parse(test::reseal(input), "backup.manifest");

  EXPECT_EQ(manifest.backup.blockIncr, true);
  EXPECT_EQ(manifest.backup.bundle, true);
  EXPECT_EQ(manifest.backup.bundleRaw, true);
  ASSERT_EQ(manifest.targets.size(), 3u);
  EXPECT_EQ(manifest.targets[1].file, "pg_hba.conf");
  EXPECT_EQ(manifest.targets[2].tablespaceId, "16385");
  EXPECT_EQ(manifest.targets[2].tablespaceName, "ts1");
  EXPECT_EQ(manifest.targets[2].type, "link");
  ASSERT_TRUE(manifest.annotation.has_value());
  EXPECT_EQ(manifest.annotation->at("ticket").asString(), "T-1");

  const ManifestFile* bundled = manifest.findFile("pg_data/base/5/16400");
  ASSERT_NE(bundled, nullptr);
  EXPECT_EQ(bundled->blockIncrSize, 2u);
  EXPECT_EQ(bundled->blockIncrChecksum, 7u);
  EXPECT_EQ(bundled->blockIncrMapSize, 45u);
  EXPECT_EQ(bundled->bundleId, 3u);
  EXPECT_EQ(bundled->bundleOffset, 1024u);
  EXPECT_EQ(bundled->checksumPage, false);
  EXPECT_EQ(bundled->checksumPageError->size(), 3u);
  EXPECT_EQ(bundled->group, ManifestOwner{});  // false: the id had no name
  EXPECT_EQ(bundled->user, ManifestOwner{"alice"});
  EXPECT_EQ(bundled->mode, "0640");
  EXPECT_EQ(bundled->unknown.at("szo"), JsonValue(16000));
  EXPECT_EQ(manifest.fileLocation(*bundled, ".gz"), (ManifestFileLocation{"20261128-051344F/bundle/3", 1024, 4000}));

  const ManifestFile* blockIncr = manifest.findFile("pg_data/base/5/16401");
  ASSERT_NE(blockIncr, nullptr);
  EXPECT_EQ(manifest.repoPath(*blockIncr, ".gz"), "20261128-051344F/pg_data/base/5/16401.pgbi");

  const ManifestFile* weird = manifest.findFile("pg_data/we=ird\"na\\me.txt");
  ASSERT_NE(weird, nullptr);
  EXPECT_EQ(weird->size, 3u);
  EXPECT_EQ(manifest.repoPath(*weird, ".gz"), "20261128-051344F/pg_data/we=ird\"na\\me.txt.gz");
  ASSERT_NE(manifest.findFile("pg_data/A=weird"), nullptr);

  ASSERT_EQ(manifest.links.size(), 2u);
  EXPECT_EQ(manifest.links[0].destination, "/etc/postgresql/pg_hba.conf");
  EXPECT_EQ(manifest.links[0].group, ManifestOwner{});
  EXPECT_EQ(manifest.links[1].user, ManifestOwner{"bob"});
  ASSERT_TRUE(manifest.linkDefault.has_value());
  EXPECT_EQ(manifest.linkDefault->user, ManifestOwner{"postgres"});

  const auto global = std::find_if(manifest.paths.begin(), manifest.paths.end(),
                                   [](const ManifestPath& path) { return path.name == "pg_data/global"; });
  ASSERT_NE(global, manifest.paths.end());
  EXPECT_EQ(global->user, ManifestOwner{"carol"});
  EXPECT_EQ(global->mode, "0750");
  EXPECT_EQ(global->group, ManifestOwner{});

  EXPECT_NE(manifest.unknown.find("backup", "backup-zzz"), nullptr);
  EXPECT_NE(manifest.unknown.find("target:path:default", "color"), nullptr);
  EXPECT_NE(manifest.unknown.find("zzz:future", "k"), nullptr);

  // Saved, the future section moves before the checksum section; everything else is where it was.
  std::string expected = test::replaceOnce(input, "\n[zzz:future]\nk={\"a\":[]}\n", "");
  expected = test::replaceOnce(expected, "\n[backrest]\nbackrest-checksum=", "\n[zzz:future]\nk={\"a\":[]}\n\n[backrest]\nbackrest-checksum=");
  expected = test::reseal(expected);
  EXPECT_EQ(manifest.render(), expected);
  EXPECT_EQ(Manifest::parse(expected, "backup.manifest").render(), expected);
}

TEST(Manifest, BuiltFromScratchReadsBack) {
  Manifest manifest;
  manifest.backup.label = "20270101-000000F";
  manifest.backup.reference = "20270101-000000F";
  manifest.backupDb = ManifestBackupDb{202209061, 1300, 1, 7713086177070084308u, "15"};
  manifest.targets.push_back(ManifestTarget{"pg_data", std::nullopt, "/pgdata", std::nullopt, std::nullopt, "path", {}});
  ManifestFile file;
  file.name = "pg_data/PG_VERSION";
  file.size = 3;
  file.timestamp = 1;
  manifest.files.push_back(file);
  manifest.fileDefault = ManifestDefaults{ManifestOwner{"postgres"}, "0600", ManifestOwner{std::nullopt}};
  const std::string text = manifest.render();
  EXPECT_NE(text.find("[target:file:default]\ngroup=\"postgres\"\nmode=\"0600\"\nuser=false\n"), std::string::npos);
  EXPECT_EQ(text.find("[cipher]"), std::string::npos);  // never in an unencrypted repository (FORMAT.md §11)
  const Manifest loaded = Manifest::parse(text, "backup.manifest");
  EXPECT_EQ(loaded.files.at(0).name, "pg_data/PG_VERSION");
  EXPECT_EQ(loaded.fileDefault->user, ManifestOwner{});
  EXPECT_EQ(loaded.render(), text);
}

TEST(Manifest, InvalidContentIsRejected) {
  const std::string text = test::fixtureText(kFullManifest);
  EXPECT_EQ(loadError<JsonFormatError>(test::reseal(test::replaceOnce(
                text, "\n[target:file:default]\n", "\npg_data/x={\"size\":1,\"timestamp\":2,\"user\":true}\n\n[target:file:default]\n"))),
            "invalid value for key 'user' in section 'target:file', key 'pg_data/x': expected a name or false but "
            "found true");
  EXPECT_EQ(loadError(test::reseal(test::replaceOnce(
                text, "\n[target:file:default]\n", "\npg_data/x={\"timestamp\":2}\n\n[target:file:default]\n"))),
            "required key 'size' not found in section 'target:file', key 'pg_data/x'");
  EXPECT_EQ(loadError<JsonFormatError>(test::reseal(test::replaceOnce(
                text, "\n[target:file:default]\n",
                "\npg_data/x={\"checksum-page-error\":[[1]],\"size\":1,\"timestamp\":2}\n\n[target:file:default]\n"))),
            "invalid value for key 'checksum-page-error' in section 'target:file', key 'pg_data/x': expected page "
            "numbers and [first,last] ranges");
  EXPECT_EQ(loadError<JsonFormatError>(test::reseal(test::replaceOnce(text, "\"type\":\"path\"", "\"type\":\"dir\""))),
            "invalid value for key 'type' in section 'backup:target', key 'pg_data': expected 'path' or 'link' but "
            "found 'dir'");
  EXPECT_EQ(loadError(test::reseal(test::replaceOnce(text, "backup-label=\"20261128-051344F\"\n", ""))),
            "required key 'backup-label' not found in section 'backup'");
  EXPECT_EQ(loadError(test::reseal(test::replaceOnce(
                text, "[backup:target]\npg_data={\"path\":\"/var/lib/postgresql/15/demo\",\"type\":\"path\"}\n\n", ""))),
            "no targets in section 'backup:target' of 'backup.manifest'");
  EXPECT_EQ(loadError<JsonFormatError>(test::reseal(test::replaceOnce(text, "postgres={\"db-id\":5,", "postgres={\"db-id\":-5,"))),
            "invalid value for key 'db-id' in section 'db', key 'postgres': expected unsigned integer but found "
            "negative integer");
}

}  // namespace
}  // namespace pgbr::backup
