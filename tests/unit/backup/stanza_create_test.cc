#include "backup/stanza_create.h"

#include <gtest/gtest.h>

#include "backup/pgbackrest_error.h"
#include "backup/stanza_info.h"
#include "crypto/sub_pass.h"
#include "unit/backup/archive_test_support.h"
#include "unit/backup/format_fixtures.h"

namespace pgbr::backup {
namespace {

using namespace test_archive;

ErrorCode createError(ArchiveFixture& fixture, const PgControl& cluster, std::string* message = nullptr) {
  return commandErrorOf([&] { stanzaCreate(fixture.storage, "demo", cluster, false); }, message);
}

// The vectors' plain repository was made by pgBackRest 2.45's stanza-create for this cluster (before any backup,
// backup.info has no [backup:current]; archive.info never changes).
TEST(StanzaCreate, WritesWhatPgBackRestWrites) {
  ArchiveFixture fixture;
  EXPECT_EQ(stanzaCreate(fixture.storage, "demo", vectorCluster(), false).outcome,
            StanzaCreateResult::Outcome::Created);
  const std::string archive = test::fixtureText("repo-plain/archive/demo/archive.info");
  EXPECT_EQ(asText(*fixture.storage.get("archive/demo/archive.info")), archive);
  EXPECT_EQ(asText(*fixture.storage.get("archive/demo/archive.info.copy")), archive);
  const BackupInfo backup = BackupInfo::parse(asText(*fixture.storage.get("backup/demo/backup.info")), "backup.info");
  EXPECT_TRUE(backup.backups.empty());
  EXPECT_FALSE(backup.header.cipherPass);
  EXPECT_EQ(backup.current().catalogVersion, 202209061u);
  EXPECT_EQ(backup.current().controlVersion, 1300u);
  EXPECT_EQ(*fixture.storage.get("backup/demo/backup.info"), *fixture.storage.get("backup/demo/backup.info.copy"));
}

TEST(StanzaCreate, EncryptedRepositoriesGetTwoIndependentSubPasses) {
  ArchiveFixture fixture;
  stanzaCreate(fixture.storage, "demo", vectorCluster(), true);
  const InfoFileReader read = plainInfoReader(fixture.storage);
  const ArchiveInfo archive = loadArchiveInfo("archive/demo/archive.info", read);
  const BackupInfo backup = loadBackupInfo("backup/demo/backup.info", read);
  ASSERT_TRUE(archive.header.cipherPass && backup.header.cipherPass);
  EXPECT_EQ(archive.header.cipherPass->size(), crypto::kSubPassLength);
  EXPECT_EQ(backup.header.cipherPass->size(), crypto::kSubPassLength);
  EXPECT_FALSE(*archive.header.cipherPass == *backup.header.cipherPass);
}

TEST(StanzaCreate, RunningAgainIsValidAndRestoresAMissingCopy) {
  ArchiveFixture fixture;
  stanzaCreate(fixture.storage, "demo", vectorCluster(), false);
  const auto before = fixture.snapshot();
  EXPECT_EQ(stanzaCreate(fixture.storage, "demo", vectorCluster(), false).outcome,
            StanzaCreateResult::Outcome::AlreadyValid);
  EXPECT_EQ(fixture.snapshot(), before);
  fixture.storage.remove("backup/demo/backup.info.copy");
  fixture.storage.remove("archive/demo/archive.info");
  EXPECT_EQ(stanzaCreate(fixture.storage, "demo", vectorCluster(), false).outcome,
            StanzaCreateResult::Outcome::Repaired);
  EXPECT_EQ(fixture.snapshot(), before);
}

TEST(StanzaCreate, AnotherClusterIsRefusedAndNothingChanges) {
  ArchiveFixture fixture;
  stanzaCreate(fixture.storage, "demo", vectorCluster(), false);
  const auto before = fixture.snapshot();
  std::string message;
  EXPECT_EQ(createError(fixture, PgControl{"15", 1234, 1300, 202209061}, &message), ErrorCode::FileInvalid);
  EXPECT_NE(message.find("do not match the database"), std::string::npos);
  EXPECT_EQ(fixture.snapshot(), before);
}

TEST(StanzaCreate, HalfAStanzaIsAnError) {
  ArchiveFixture fixture;
  stanzaCreate(fixture.storage, "demo", vectorCluster(), false);
  fixture.storage.remove("backup/demo/backup.info");
  fixture.storage.remove("backup/demo/backup.info.copy");
  std::string message;
  EXPECT_EQ(createError(fixture, vectorCluster(), &message), ErrorCode::FileMissing);
  EXPECT_EQ(message, "archive.info exists but backup.info is missing on repo1");
}

TEST(StanzaCreate, FilesWithoutInfoFilesAreAnError) {
  ArchiveFixture fixture;
  fixture.storage.put("archive/demo/15-1/00000002.history", asBytes("x"));
  std::string message;
  EXPECT_EQ(createError(fixture, vectorCluster(), &message), ErrorCode::PathNotEmpty);
  EXPECT_EQ(message, "archive directory not empty");
}

}  // namespace
}  // namespace pgbr::backup
