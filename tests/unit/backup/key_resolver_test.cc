// The key hierarchy of FORMAT.md §3 on the pgBackRest-written vectors: every file's resolved key decrypts it.
#include "backup/key_resolver.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "backup/posix_storage.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_block_encryptor.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

namespace stdfs = std::filesystem;

crypto::CipherSpec repoSpec() { return crypto::CipherSpec::aes256Cbc(crypto::Secret(test::vectorPassphrase("repo"))); }

TEST(KeyRule, PathsMapToTheirGoverningFiles) {
  using Level = KeyRule::Level;
  struct Case {
    const char* path;
    Level level;
    const char* governing;
  };
  const Case cases[] = {
      {"archive/demo/archive.info", Level::Repo, ""},
      {"archive/demo/archive.info.copy", Level::Repo, ""},
      {"archive/demo/archive.info.pgbackrest.tmp", Level::Repo, ""},
      {"backup/demo/backup.info", Level::Repo, ""},
      {"archive/demo/15-1/0000000100000000/000000010000000000000003-a9857f3e4a10e6faa1dc1476950a83d86b370060.gz",
       Level::Archive, "archive/demo/archive.info"},
      {"archive/demo/15-1/00000002.history", Level::Archive, "archive/demo/archive.info"},
      {"archive/demo/15-1/x.pgbackrest.tmp", Level::Archive, "archive/demo/archive.info"},
      {"archive/demo/README.txt", Level::Repo, ""},
      {"archive/demo/notanid/x", Level::Repo, ""},
      {"backup/demo/20261128-051344F/backup.manifest", Level::Backup, "backup/demo/backup.info"},
      {"backup/demo/20261128-051344F/backup.manifest.copy.pgbackrest.tmp", Level::Backup, "backup/demo/backup.info"},
      {"backup/demo/backup.history/2026/20261128-051344F.manifest.gz", Level::Backup, "backup/demo/backup.info"},
      {"backup/demo/20261128-051344F/pg_data/base/1/112.gz", Level::Manifest,
       "backup/demo/20261128-051344F/backup.manifest"},
      {"backup/demo/20261128-051344F_20261128-051359I/pg_data/backup_label.gz", Level::Manifest,
       "backup/demo/20261128-051344F_20261128-051359I/backup.manifest"},
      {"backup/demo/20261128-051344F/bundle/1", Level::Manifest, "backup/demo/20261128-051344F/backup.manifest"},
      {"backup/demo/notes.txt", Level::Repo, ""},
      {"backup/demo/not-a-label/x", Level::Repo, ""},
      {"top-level-file", Level::Repo, ""},
  };
  for (const Case& c : cases) {
    const KeyRule rule = KeyResolver::ruleFor(c.path);
    EXPECT_EQ(rule.level, c.level) << c.path;
    EXPECT_EQ(rule.governingFile, c.governing) << c.path;
  }
  EXPECT_TRUE(KeyResolver::isGoverningFile("backup/demo/20261128-051344F/backup.manifest.copy"));
  EXPECT_TRUE(KeyResolver::isGoverningFile("archive/demo/archive.info.pgbackrest.tmp"));
  EXPECT_FALSE(KeyResolver::isGoverningFile("backup/demo/20261128-051344F/pg_data/backup.manifest"));
}

TEST(KeyResolver, EveryVectorFileDecryptsWithItsResolvedKey) {
  for (const char* repo : {"repo-enc", "repo-none"}) {
    PosixStorage storage(test::vectorsPath(repo).string());
    KeyResolver resolver(storage, repoSpec());
    int files = 0;
    for (const auto& entry : stdfs::recursive_directory_iterator(test::vectorsPath(repo))) {
      if (!entry.is_regular_file()) continue;
      const std::string relative = stdfs::relative(entry.path(), test::vectorsPath(repo)).string();
      const crypto::CipherSpec spec = resolver.keyFor(relative);
      ASSERT_TRUE(spec.encrypted()) << relative;
      EXPECT_NO_THROW(crypto::decryptBuffer(spec.pass(), test::readFile(entry.path()))) << relative;
      files++;
    }
    EXPECT_GT(files, 4) << repo;
  }
}

TEST(KeyResolver, UnencryptedRepositoryNeedsNoKeys) {
  PosixStorage storage(test::vectorsPath("repo-plain").string());
  KeyResolver resolver(storage, crypto::CipherSpec::none());
  EXPECT_FALSE(resolver.keyFor("backup/demo/20261128-051348F/pg_data/PG_VERSION.gz").encrypted());
}

TEST(KeyResolver, MissingGoverningFileIsAnErrorNamingIt) {
  test::TempDir dir;
  PosixStorage storage(dir.path().string());
  KeyResolver resolver(storage, repoSpec());
  try {
    resolver.keyFor("archive/demo/15-1/x");
    FAIL();
  } catch (const KeyUnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("archive/demo/archive.info"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(KeyResolver, FallsBackToTheCopyAndNoticesChanges) {
  test::TempDir dir;
  stdfs::copy(test::vectorsPath("repo-enc"), dir.path(), stdfs::copy_options::recursive);
  const std::string manifest = "backup/demo/20261128-051344F/backup.manifest";
  stdfs::remove(dir.path() / manifest);  // during a backup only the .copy exists
  PosixStorage storage(dir.path().string());
  KeyResolver resolver(storage, repoSpec(), std::chrono::milliseconds(0));
  const crypto::CipherSpec first = resolver.keyFor("backup/demo/20261128-051344F/pg_data/x");
  EXPECT_TRUE(first.pass() == crypto::Secret(test::vectorPassphrase("repo-enc.manifest.20261128-051344F")));

  const crypto::Secret backupPass(test::vectorPassphrase("repo-enc.backup"));
  // Replace the manifest copy behind the resolver's back with one carrying another sub-pass: noticed by size/mtime.
  std::string text(asText(test::readFile(test::vectorsPath("plaintext/repo-enc/" + manifest))));
  const std::string oldPass = test::vectorPassphrase("repo-enc.manifest.20261128-051344F");
  const std::string newPass(64, 'N');
  text.replace(text.find(oldPass), oldPass.size(), newPass);  // (checksum now wrong: the loader must reject it)
  test::writeFile(dir.path() / (manifest + ".copy"), crypto::encryptBuffer(backupPass, asBytes(text)));
  EXPECT_THROW(resolver.keyFor("backup/demo/20261128-051344F/pg_data/x"), KeyUnavailableError);
}

TEST(KeyResolver, RevokedGoverningFileIsNoticed) {
  test::TempDir dir;
  stdfs::copy(test::vectorsPath("repo-enc"), dir.path(), stdfs::copy_options::recursive);
  PosixStorage storage(dir.path().string());
  KeyResolver resolver(storage, repoSpec(), std::chrono::milliseconds(0));
  EXPECT_TRUE(resolver.keyFor("archive/demo/15-1/00000002.history").encrypted());
  stdfs::remove(dir.path() / "archive/demo/archive.info");
  stdfs::remove(dir.path() / "archive/demo/archive.info.copy");
  EXPECT_THROW(resolver.keyFor("archive/demo/15-1/00000002.history"), KeyUnavailableError);
}

}  // namespace
}  // namespace pgbr::backup
