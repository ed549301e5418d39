#include "backup/verify.h"

#include <gtest/gtest.h>

#include "backup/backup_info.h"
#include "backup/manifest.h"
#include "backup/repo_filters.h"
#include "unit/backup/archive_test_support.h"

namespace pgbr::backup {
namespace {

using namespace test_archive;

constexpr const char* kFull = "20260101-000000F";
constexpr const char* kDiff = "20260101-000000F_20260102-000000D";

class CollectSink final : public Sink {
 public:
  void write(ByteView data) override { bytes.insert(bytes.end(), data.begin(), data.end()); }
  Bytes bytes;
};

// gz-compresses `plain` as a repository file; returns the stored bytes and the manifest values.
std::pair<Bytes, RepoWriteResult> compress(ByteView plain) {
  CollectSink sink;
  Pipeline pipeline(sink);
  RepoWriteSpec spec;
  spec.compressType = CompressType::Gz;
  RepoWriteMeters meters = addRepoWriteFilters(pipeline, spec);
  pipeline.write(plain);
  pipeline.close();
  return {sink.bytes, meters.result()};
}

// A plaintext stanza: the vector segment 000000010000000000000003 archived (gz), a full with two files (one
// empty) and a diff referencing one of them and storing one of its own; both need WAL 03 only.
struct VerifyFixture {
  ArchiveFixture base;
  PosixStorage& repo = base.storage;
  CommandLog log;
  std::string walPath;

  VerifyFixture() {
    const std::string archiveText = archiveInfoFor().render();
    repo.put("archive/demo/archive.info", asBytes(archiveText));
    repo.put("archive/demo/archive.info.copy", asBytes(archiveText));
    const auto [wal, walResult] = compress(vectorSegment());
    walPath = "archive/demo/15-1/0000000100000000/" + std::string(kSegment) + "-" + walResult.checksum + ".gz";
    repo.put(walPath, wal);

    BackupInfo info;
    info.dbId = 1;
    info.history.push_back(BackupHistoryEntry{1, 202209061, 1300, kSystemId, "15", {}});
    for (const char* label : {kFull, kDiff}) {
      BackupInfoEntry entry;
      entry.label = label;
      entry.type = label == std::string(kFull) ? BackupType::Full : BackupType::Diff;
      if (entry.type == BackupType::Diff) {
        entry.prior = kFull;
        entry.reference = std::vector<std::string>{kFull};
      }
      entry.archiveStart = entry.archiveStop = kSegment;
      entry.dbId = 1;
      info.backups.push_back(entry);
    }
    const std::string infoText = info.render();
    repo.put("backup/demo/backup.info", asBytes(infoText));
    repo.put("backup/demo/backup.info.copy", asBytes(infoText));

    Manifest full = manifest(kFull);
    full.files.push_back(storeFile(kFull, "pg_data/PG_VERSION", "15\n"));
    full.files.push_back(storeFile(kFull, "pg_data/empty", ""));
    saveManifest(full);
    Manifest diff = manifest(kDiff);
    diff.backup.prior = kFull;
    diff.backup.type = BackupType::Diff;
    ManifestFile referenced = full.files[0];
    referenced.reference = kFull;
    diff.files.push_back(referenced);
    diff.files.push_back(storeFile(kDiff, "pg_data/base/1/1", std::string(8192, 'p')));
    saveManifest(diff);
  }

  static Manifest manifest(const std::string& label) {
    Manifest result;
    result.backup.label = label;
    result.backup.archiveStart = result.backup.archiveStop = kSegment;
    result.backupDb = ManifestBackupDb{202209061, 1300, 1, kSystemId, "15"};
    result.targets.push_back(
        ManifestTarget{"pg_data", std::nullopt, "/pgdata", std::nullopt, std::nullopt, "path", {}});
    result.options.compress = true;
    result.options.compressType = "gz";
    return result;
  }
  ManifestFile storeFile(const std::string& label, const std::string& name, const std::string& content) {
    const auto [stored, result] = compress(asBytes(content));
    repo.put("backup/demo/" + label + "/" + name + ".gz", stored);
    ManifestFile file;
    file.name = name;
    if (!content.empty()) file.checksum = result.checksum;
    file.size = content.size();
    file.repoSize = stored.size();
    return file;
  }
  void saveManifest(const Manifest& manifest) {
    const std::string text = manifest.render();
    repo.put("backup/demo/" + manifest.backup.label + "/backup.manifest", asBytes(text));
    repo.put("backup/demo/" + manifest.backup.label + "/backup.manifest.copy", asBytes(text));
  }
  VerifyReport verify() { return verifyStanza(repo, "demo", VerifyOptions{}, log); }
};

TEST(Verify, CleanRepositoryChecksEveryFileOnce) {
  VerifyFixture fixture;
  const VerifyReport report = fixture.verify();
  EXPECT_TRUE(report.ok()) << renderVerifyText(report);
  ASSERT_EQ(report.archives.size(), 1u);
  EXPECT_EQ(report.archives[0].archiveId, "15-1");
  EXPECT_EQ(report.archives[0].checked, 1u);
  EXPECT_EQ(report.archives[0].valid, 1u);
  ASSERT_EQ(report.backups.size(), 2u);
  EXPECT_EQ(report.backups[0].checked, 2u);  // PG_VERSION and the empty file
  EXPECT_EQ(report.backups[1].checked, 2u);  // its own file and the referenced one (read once, for the full)
  EXPECT_EQ(report.backups[1].status(), "valid");
  EXPECT_EQ(
      renderVerifyText(report),
      "stanza: demo\nstatus: ok\n"
      "    archiveId: 15-1, total WAL checked: 1, total valid WAL: 1\n"
      "    backup: 20260101-000000F, status: valid, total files checked: 2, total valid files: 2\n"
      "    backup: 20260101-000000F_20260102-000000D, status: valid, total files checked: 2, total valid files: 2\n");
  EXPECT_NE(renderVerifyJson(report).find("\"status\":\"ok\""), std::string::npos);
}

TEST(Verify, CorruptWalIsNamedAndItsBackupsAreInvalid) {
  VerifyFixture fixture;
  Bytes content = *fixture.repo.get(fixture.walPath);
  const auto [corrupt, result] = compress(Bytes(16u << 20, 0));
  fixture.repo.put(fixture.walPath, corrupt);
  const VerifyReport report = fixture.verify();
  ASSERT_EQ(report.errors.size(), 1u) << renderVerifyText(report);
  EXPECT_EQ(report.errors[0].file, fixture.walPath);
  EXPECT_EQ(report.errors[0].kind, "checksum mismatch");
  EXPECT_EQ(report.backups[0].status(), "invalid");
  EXPECT_EQ(report.archives[0].valid, 0u);
}

TEST(Verify, CorruptOrMissingBackupFilesAreNamed) {
  VerifyFixture fixture;
  const auto [stored, result] = compress(asBytes(std::string("14\n")));
  fixture.repo.put(std::string("backup/demo/") + kFull + "/pg_data/PG_VERSION.gz", stored);
  fixture.repo.remove(std::string("backup/demo/") + kDiff + "/pg_data/base/1/1.gz");
  const VerifyReport report = fixture.verify();
  ASSERT_EQ(report.errors.size(), 2u) << renderVerifyText(report);
  EXPECT_EQ(report.errors[0].file, std::string("backup/demo/") + kFull + "/pg_data/PG_VERSION.gz");
  EXPECT_EQ(report.errors[0].kind, "checksum mismatch");
  EXPECT_EQ(report.errors[1].file, std::string("backup/demo/") + kDiff + "/pg_data/base/1/1.gz");
  EXPECT_EQ(report.errors[1].kind, "missing");
  EXPECT_EQ(report.backups[1].invalid, 2u);  // the referenced PG_VERSION and its own file
  EXPECT_NE(renderVerifyJson(report).find("\"kind\":\"missing\""), std::string::npos);
}

TEST(Verify, MissingWalAndInfoCopyAreErrors) {
  VerifyFixture fixture;
  fixture.repo.remove(fixture.walPath);
  fixture.repo.remove("backup/demo/backup.info.copy");
  const VerifyReport report = fixture.verify();
  std::vector<std::string> kinds;
  for (const VerifyProblem& error : report.errors) kinds.push_back(error.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"invalid info file", "WAL missing", "WAL missing"}))
      << renderVerifyText(report);
}

// A backup directory without backup.manifest that backup.info does not list is a backup in progress, or one killed
// before it wrote even its manifest copy: skipped, as pgBackRest's verify does. With a manifest it is an error.
TEST(Verify, BackupDirectoriesNotInBackupInfo) {
  VerifyFixture fixture;
  fixture.repo.put("backup/demo/20260103-000000F/backup.manifest.copy", asBytes("partial"));
  fixture.repo.put("backup/demo/20260104-000000F/pg_data/PG_VERSION.gz", asBytes("torn"));
  VerifyReport report = fixture.verify();
  EXPECT_TRUE(report.ok()) << renderVerifyText(report);
  ASSERT_EQ(report.skipped.size(), 2u);
  EXPECT_EQ(report.skipped[0].file, "backup/demo/20260103-000000F");
  EXPECT_EQ(report.skipped[1].file, "backup/demo/20260104-000000F");
  EXPECT_EQ(report.skipped[1].reason, "backup in progress (no backup.manifest yet)");
  fixture.repo.put("backup/demo/20260104-000000F/backup.manifest", asBytes("complete but not listed"));
  report = fixture.verify();
  ASSERT_EQ(report.errors.size(), 1u) << renderVerifyText(report);
  EXPECT_EQ(report.errors[0].file, "backup/demo/20260104-000000F");
  EXPECT_EQ(report.errors[0].kind, "not in backup.info");
}

// Each bundle member is its own compressed stream at bno, repo-size long (FORMAT.md §12); zero-length files of a
// bundled backup are not stored at all.
TEST(Verify, BundleMembersAreReadByOffsetOnPlainRepositories) {
  VerifyFixture fixture;
  Manifest bundled = VerifyFixture::manifest(kFull);
  bundled.backup.bundle = true;
  Bytes bundle;
  for (const std::string content : {"first member", "second"}) {
    const auto [stored, result] = compress(asBytes(content));
    ManifestFile file;
    file.name = "pg_data/file" + std::to_string(bundled.files.size());
    file.bundleId = 1;
    if (!bundle.empty()) file.bundleOffset = bundle.size();
    file.checksum = result.checksum;
    file.size = content.size();
    file.repoSize = stored.size();
    bundled.files.push_back(file);
    bundle.insert(bundle.end(), stored.begin(), stored.end());
  }
  ManifestFile empty;
  empty.name = "pg_data/empty";
  bundled.files.push_back(empty);
  fixture.repo.put(std::string("backup/demo/") + kFull + "/bundle/1", bundle);
  fixture.saveManifest(bundled);
  fixture.repo.remove(std::string("backup/demo/") + kDiff + "/backup.manifest");  // only the full matters here
  fixture.repo.remove(std::string("backup/demo/") + kDiff + "/backup.manifest.copy");
  VerifyReport report = fixture.verify();
  EXPECT_EQ(report.backups[0].checked, 3u);
  EXPECT_EQ(report.backups[0].valid, 3u);
  // The second member changed: named with its manifest name and offset.
  bundle.back() ^= 0x01;
  fixture.repo.put(std::string("backup/demo/") + kFull + "/bundle/1", bundle);
  report = fixture.verify();
  ASSERT_FALSE(report.errors.empty());
  EXPECT_NE(report.errors.front().file.find("bundle/1 (pg_data/file1 at offset"), std::string::npos)
      << renderVerifyText(report);
}

TEST(Verify, BundlesOnAnEncryptedMountAreSkipped) {
  VerifyFixture fixture;
  Manifest bundled = VerifyFixture::manifest(kFull);
  bundled.backup.bundle = true;
  ManifestFile file;
  file.name = "pg_data/PG_VERSION";
  file.bundleId = 1;
  file.size = 3;
  file.checksum = std::string(40, '0');
  bundled.files.push_back(file);
  fixture.saveManifest(bundled);
  const VerifyReport report = verifyStanza(fixture.repo, "demo", VerifyOptions{true, ""}, fixture.log);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].file, std::string("backup/demo/") + kFull + "/bundle/1");
  EXPECT_EQ(report.skipped[0].reason, "bundle on an encrypted mount");
  EXPECT_EQ(report.backups[0].skipped, 1u);
}

}  // namespace
}  // namespace pgbr::backup
