#include "backup/posix_storage.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>

#include "backup/storage_error.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

namespace stdfs = std::filesystem;

TEST(PosixStorage, PutGetListInfoRemove) {
  test::TempDir dir;
  PosixStorage storage(dir.path().string());
  EXPECT_FALSE(storage.get("a/b/c"));
  EXPECT_FALSE(storage.info("a"));
  EXPECT_FALSE(storage.list("a"));
  storage.put("a/b/c", asBytes("hello"));
  EXPECT_EQ(asText(*storage.get("a/b/c")), "hello");
  EXPECT_FALSE(stdfs::exists(dir.path() / "a/b/c.pgbackrest.tmp"));
  const std::optional<StorageInfo> info = storage.info("a/b/c");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type, StorageInfo::Type::File);
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->mode, 0640u);
  EXPECT_EQ(storage.info("a/b")->mode, 0750u);
  storage.put("a/b/d", asBytes(""));
  EXPECT_EQ(*storage.list("a/b"), (std::vector<std::string>{"c", "d"}));
  EXPECT_TRUE(storage.remove("a/b/c"));
  EXPECT_FALSE(storage.remove("a/b/c"));
}

TEST(PosixStorage, RenameReplacesTheTargetAndNamesBothPathsOnError) {
  test::TempDir dir;
  PosixStorage storage(dir.path().string());
  storage.put("a/x.tmp", asBytes("new"));
  storage.put("a/x", asBytes("old"));
  storage.rename("a/x.tmp", "a/x");
  EXPECT_EQ(asText(*storage.get("a/x")), "new");
  EXPECT_FALSE(storage.info("a/x.tmp"));
  try {
    storage.rename("a/missing", "a/y");
    FAIL() << "rename of a missing file succeeded";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("'a/missing' to 'a/y'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(storage.rename("a/x", "../outside"), std::invalid_argument);
}

TEST(PosixStorage, RejectsPathsThatEscape) {
  test::TempDir dir;
  PosixStorage storage(dir.path().string());
  for (const char* bad : {"/etc/passwd", "../x", "a/../../x", "a//b", "", "./a"})
    EXPECT_THROW(storage.get(bad), std::invalid_argument) << bad;
  // A symlink planted inside the repository does not lead outside it.
  stdfs::create_directory_symlink("/etc", dir.path() / "link");
  EXPECT_THROW(storage.get("link/hostname"), StorageError);
  try {
    storage.list("link");
    FAIL() << "a directory link out of the repository was listed";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.errorNumber(), EXDEV);
    EXPECT_NE(std::string(e.what()).find("leads outside the repository"), std::string::npos) << e.what();
  }
  stdfs::create_symlink("/etc/hostname", dir.path() / "file-link");
  EXPECT_THROW(storage.get("file-link"), StorageError);
  const std::optional<StorageInfo> info = storage.info("file-link");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type, StorageInfo::Type::Link);
  EXPECT_EQ(info->linkDestination, "/etc/hostname");
}

TEST(PosixStorage, ErrorsNameThePath) {
  test::TempDir dir;
  PosixStorage storage(dir.path().string());
  stdfs::create_directories(dir.path() / "ro");
  ::chmod((dir.path() / "ro").c_str(), 0500);
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  try {
    storage.put("ro/x", asBytes("x"), {0640, false, true});
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("ro/x"), std::string::npos);
  }
}

TEST(PosixStorage, MissingRootIsAnError) {
  EXPECT_THROW(PosixStorage("/nonexistent/pgbr-repo"), StorageError);
}

}  // namespace
}  // namespace pgbr::backup

namespace pgbr::backup {
namespace {

// Used by expire for backup directories and WAL directories: everything below goes, links are not followed.
TEST(PosixStorage, RemovePathRemovesATreeWithoutFollowingLinks) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "repo");
  std::filesystem::create_directories(dir / "outside");
  test::writeFile(dir / "outside/keep", asBytes(std::string("keep")));
  PosixStorage storage((dir / "repo").string());
  storage.put("backup/demo/L/pg_data/base/1/1.gz", asBytes(std::string("x")));
  storage.put("backup/demo/L/backup.manifest", asBytes(std::string("x")));
  std::filesystem::create_directory_symlink(dir / "outside", dir / "repo/backup/demo/L/pg_data/link");
  EXPECT_TRUE(storage.removePath("backup/demo/L"));
  EXPECT_FALSE(storage.info("backup/demo/L"));
  EXPECT_TRUE(storage.info("backup/demo"));
  EXPECT_TRUE(std::filesystem::exists(dir / "outside/keep"));
  EXPECT_FALSE(storage.removePath("backup/demo/L"));
  EXPECT_THROW(storage.removePath("../outside"), std::invalid_argument);
}

}  // namespace
}  // namespace pgbr::backup
