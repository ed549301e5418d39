// The snapshot view through PgbrFs, as the FUSE bridge calls it, on a copy of the pgBackRest-written encrypted
// vectors repository (its backups hold only a few of their files: the others read as errors, which is tested too).
#include "fs/snapshot_view.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "fs/fs_error.h"
#include "fs/pgbrfs.h"
#include "unit/test_support.h"

namespace pgbr::fs {
namespace {

namespace stdfs = std::filesystem;

constexpr const char* kFull = "20261128-051344F";
constexpr const char* kIncr = "20261128-051344F_20261128-051359I";

class SnapshotViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stdfs::copy(test::vectorsPath("repo-enc"), backing_.path(), stdfs::copy_options::recursive);
    fs_ = std::make_unique<PgbrFs>(FsOptions{
        backing_.path().string(), crypto::CipherSpec::aes256Cbc(crypto::Secret(test::vectorPassphrase("repo"))), false});
    fs_->addView(std::make_unique<SnapshotView>(*fs_));
  }

  Bytes readAll(const std::string& path, std::size_t chunk = 4096) {
    std::unique_ptr<FileHandle> handle = fs_->open(path, O_RDONLY);
    Bytes out(static_cast<std::size_t>(fs_->getattr(path, nullptr).st_size));
    std::size_t done = 0;
    while (done < out.size()) {
      const std::size_t n =
          fs_->read(*handle, done, MutableByteView(out).subspan(done, std::min(chunk, out.size() - done)));
      if (n == 0) break;
      done += n;
    }
    fs_->release(std::move(handle));
    out.resize(done);
    return out;
  }

  std::vector<std::string> names(const std::string& path) {
    std::vector<std::string> result;
    for (const DirEntry& entry : fs_->readdir(path)) result.push_back(entry.name);
    std::sort(result.begin(), result.end());
    return result;
  }

  static int errnoOf(const std::function<void()>& work) {
    try {
      work();
    } catch (const FsError& e) {
      return e.errorNumber();
    } catch (const std::exception& e) {
      return errnoFor(e);
    }
    return 0;
  }

  Bytes plaintext(const std::string& label, const std::string& name) {
    return test::readFile(test::vectorsPath("plaintext/repo-enc/backup/demo/" + label + "/pg_data/" + name));
  }

  test::TempDir backing_;
  std::unique_ptr<PgbrFs> fs_;
};

TEST_F(SnapshotViewTest, ListsStanzasLabelsAndLatest) {
  const std::vector<std::string> root = names("");
  EXPECT_EQ(std::count(root.begin(), root.end(), "snapshot"), 1);
  EXPECT_TRUE(S_ISDIR(fs_->getattr("snapshot", nullptr).st_mode));
  EXPECT_EQ(names("snapshot"), std::vector<std::string>{"demo"});
  EXPECT_EQ(names("snapshot/demo"),
            (std::vector<std::string>{kFull, "20261128-051344F_20261128-051356D", kIncr, "latest"}));
  EXPECT_TRUE(S_ISLNK(fs_->getattr("snapshot/demo/latest", nullptr).st_mode));
  EXPECT_EQ(fs_->readlink("snapshot/demo/latest"), kIncr);
  EXPECT_EQ(errnoOf([&] { fs_->getattr("snapshot/nostanza", nullptr); }), ENOENT);
  EXPECT_EQ(errnoOf([&] { fs_->getattr("snapshot/demo/20200101-000000F", nullptr); }), ENOENT);
  EXPECT_EQ(errnoOf([&] { fs_->getattr("snapshot/demo/" + std::string(kFull) + "/nothing", nullptr); }), ENOENT);
}

TEST_F(SnapshotViewTest, LabelIsTheDataDirectoryWithManifestAttributes) {
  const std::string label = std::string("snapshot/demo/") + kFull;
  const struct stat dir = fs_->getattr(label, nullptr);
  EXPECT_TRUE(S_ISDIR(dir.st_mode));
  EXPECT_EQ(dir.st_mode & 07777, 0700u);
  const std::vector<std::string> top = names(label);
  for (const char* name : {"PG_VERSION", "backup_label", "base", "global", "pg_wal", "pg_tblspc"})
    EXPECT_EQ(std::count(top.begin(), top.end(), name), 1) << name;
  EXPECT_EQ(names(label + "/pg_wal"), std::vector<std::string>{"archive_status"});
  const struct stat control = fs_->getattr(label + "/global/pg_control", nullptr);
  EXPECT_TRUE(S_ISREG(control.st_mode));
  EXPECT_EQ(control.st_size, 8192);
  EXPECT_EQ(control.st_mode & 07777, 0600u);
  EXPECT_EQ(control.st_mtim.tv_sec, 1795842824);
  EXPECT_EQ(control.st_nlink, 1u);
}

TEST_F(SnapshotViewTest, FilesReadDecryptedDecompressedAndFromTheBackupThatHoldsThem) {
  const std::string full = std::string("snapshot/demo/") + kFull, incr = std::string("snapshot/demo/") + kIncr;
  EXPECT_EQ(readAll(full + "/PG_VERSION"), plaintext(kFull, "PG_VERSION"));
  EXPECT_EQ(readAll(full + "/global/pg_control", 1000), plaintext(kFull, "global/pg_control"));
  EXPECT_EQ(readAll(full + "/backup_label"), plaintext(kFull, "backup_label"));
  EXPECT_EQ(readAll(full + "/base/1/13394"), Bytes());
  // The incremental backup references base/1/112 in the full one, and has its own backup_label.
  EXPECT_EQ(readAll(incr + "/base/1/112"), plaintext(kFull, "base/1/112"));
  EXPECT_EQ(readAll(incr + "/backup_label"), plaintext(kIncr, "backup_label"));
  EXPECT_NE(readAll(incr + "/backup_label"), readAll(full + "/backup_label"));
  // latest is a link: the kernel follows it; PgbrFs never sees a path through it.
  EXPECT_EQ(errnoOf([&] { fs_->getattr("snapshot/demo/latest/base/1/112", nullptr); }), ENOENT);
}

TEST_F(SnapshotViewTest, DamagedFilesAreErrorsAndNothingChanges) {
  const std::string full = std::string("snapshot/demo/") + kFull;
  // The vectors hold only some files of the backup: the others are missing from the repository.
  EXPECT_EQ(errnoOf([&] { fs_->open(full + "/base/1/1259", O_RDONLY); }), EIO);
  // A flipped byte in the ciphertext of pg_control: EIO for it; other files read fine.
  const stdfs::path stored = backing_.path() / "backup/demo" / kFull / "pg_data/global/pg_control.gz";
  Bytes bytes = test::readFile(stored);
  bytes[bytes.size() / 2] ^= 0x40;
  test::writeFile(stored, bytes);
  EXPECT_EQ(errnoOf([&] { readAll(full + "/global/pg_control"); }), EIO);
  EXPECT_EQ(readAll(full + "/PG_VERSION"), plaintext(kFull, "PG_VERSION"));

  EXPECT_EQ(errnoOf([&] { fs_->open(full + "/PG_VERSION", O_WRONLY); }), EROFS);
  EXPECT_EQ(errnoOf([&] { fs_->open(full + "/PG_VERSION", O_RDONLY | O_TRUNC); }), EROFS);
  EXPECT_EQ(errnoOf([&] { fs_->create(full + "/new", 0600, O_WRONLY | O_CREAT, Caller{0, 0}); }), EROFS);
  EXPECT_EQ(errnoOf([&] { fs_->mkdir(full + "/dir", 0700, Caller{0, 0}); }), EROFS);
  EXPECT_EQ(errnoOf([&] { fs_->unlink(full + "/PG_VERSION"); }), EROFS);
  EXPECT_EQ(errnoOf([&] { fs_->rename(full + "/PG_VERSION", full + "/x", 0); }), EROFS);
  EXPECT_EQ(errnoOf([&] { fs_->open(full + "/base", O_RDONLY); }), EISDIR);
  EXPECT_FALSE(stdfs::exists(backing_.path() / "snapshot"));
}

TEST_F(SnapshotViewTest, LabelsFollowBackupInfo) {
  EXPECT_EQ(names("snapshot/demo").size(), 4u);
  // An expire rewrites backup.info: a backup that is gone from it disappears from the view.
  stdfs::remove(backing_.path() / "backup/demo/backup.info");
  stdfs::remove(backing_.path() / "backup/demo/backup.info.copy");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(names("snapshot/demo"), std::vector<std::string>{});
  EXPECT_EQ(errnoOf([&] { fs_->getattr("snapshot/demo/latest", nullptr); }), ENOENT);
}

}  // namespace
}  // namespace pgbr::fs
