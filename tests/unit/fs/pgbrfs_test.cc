// The file system core (no FUSE): a copy of the pgBackRest-written vectors repository as the backing directory,
// read and written through PgbrFs exactly as the FUSE bridge calls it.
#include "fs/pgbrfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "backup/key_resolver.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/crypto_error.h"
#include "fs/fs_error.h"
#include "unit/test_support.h"

namespace pgbr::fs {
namespace {

namespace stdfs = std::filesystem;

const Caller kRoot{0, 0};

class PgbrFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stdfs::copy(test::vectorsPath("repo-enc"), backing_.path(), stdfs::copy_options::recursive);
    fs_ = std::make_unique<PgbrFs>(
        FsOptions{backing_.path().string(), crypto::CipherSpec::aes256Cbc(crypto::Secret(test::vectorPassphrase("repo"))),
                  false});
  }

  Bytes readAll(const std::string& path) {
    std::unique_ptr<FileHandle> handle = fs_->open(path, O_RDONLY);
    Bytes out(fs_->getattr(path, nullptr).st_size);
    std::size_t done = 0;
    while (done < out.size()) {
      const std::size_t n = fs_->read(*handle, done, MutableByteView(out).subspan(done, std::min<std::size_t>(131072, out.size() - done)));
      if (n == 0) break;
      done += n;
    }
    EXPECT_EQ(done, out.size()) << path;
    fs_->release(std::move(handle));
    return out;
  }

  void writeFile(const std::string& path, ByteView data, std::size_t chunk = 65536) {
    std::unique_ptr<FileHandle> handle = fs_->create(path, 0640, O_WRONLY | O_CREAT | O_TRUNC, kRoot);
    for (std::size_t off = 0; off < data.size(); off += chunk)
      fs_->write(*handle, off, data.subspan(off, std::min(chunk, data.size() - off)));
    fs_->flush(*handle);
    fs_->release(std::move(handle));
  }

  Bytes backingDecrypted(const std::string& path, const std::string& passName) {
    return crypto::decryptBuffer(crypto::Secret(test::vectorPassphrase(passName)), test::readFile(backing_.path() / path));
  }

  test::TempDir backing_;
  std::unique_ptr<PgbrFs> fs_;
};

TEST_F(PgbrFsTest, ReadsEveryVectorFileAsPlaintext) {
  const stdfs::path root = test::vectorsPath("repo-enc");
  int files = 0;
  for (const auto& entry : stdfs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::string relative = stdfs::relative(entry.path(), root).string();
    SCOPED_TRACE(relative);
    Bytes plain = readAll(relative);
    if (relative.ends_with(".gz")) {
      plain = test::gunzip(plain);
      relative.resize(relative.size() - 3);
    }
    EXPECT_EQ(plain, test::readFile(test::vectorsPath("plaintext/repo-enc/" + relative)));
    files++;
  }
  EXPECT_EQ(files, 18);
}

TEST_F(PgbrFsTest, SizesArePlaintextSizes) {
  const struct stat st = fs_->getattr("archive/demo/archive.info", nullptr);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size),
            test::readFile(test::vectorsPath("plaintext/repo-enc/archive/demo/archive.info")).size());
  EXPECT_TRUE(S_ISDIR(fs_->getattr("", nullptr).st_mode));
}

TEST_F(PgbrFsTest, WritesUseTheKeyOfTheirPath) {
  const Bytes data = test::patternBytes(100003, 1);
  writeFile("archive/demo/15-1/0000000100000000/test-file", data);
  EXPECT_EQ(backingDecrypted("archive/demo/15-1/0000000100000000/test-file", "repo-enc.archive"), data);
  writeFile("backup/demo/20261128-051344F/pg_data/new-file", data, 4093);
  EXPECT_EQ(backingDecrypted("backup/demo/20261128-051344F/pg_data/new-file", "repo-enc.manifest.20261128-051344F"),
            data);
  writeFile("backup/demo/backup.history/2026/x.manifest.gz", data);
  EXPECT_EQ(backingDecrypted("backup/demo/backup.history/2026/x.manifest.gz", "repo-enc.backup"), data);
  writeFile("notes.txt", asBytes("outside the layout"));
  EXPECT_EQ(asText(backingDecrypted("notes.txt", "repo")), "outside the layout");
  EXPECT_EQ(readAll("notes.txt"), Bytes(asBytes("outside the layout").begin(), asBytes("outside the layout").end()));
}

TEST_F(PgbrFsTest, NothingAppearsUnderTheFinalNameBeforeClose) {
  std::unique_ptr<FileHandle> handle = fs_->create("notes.txt", 0640, O_WRONLY | O_CREAT, kRoot);
  fs_->write(*handle, 0, asBytes("partial"));
  EXPECT_FALSE(stdfs::exists(backing_.path() / "notes.txt"));
  EXPECT_EQ(fs_->getattr("notes.txt", nullptr).st_size, 7);  // visible through the mount meanwhile
  fs_->flush(*handle);
  EXPECT_TRUE(stdfs::exists(backing_.path() / "notes.txt"));
  fs_->release(std::move(handle));
  EXPECT_TRUE(stdfs::is_empty(backing_.path() / kStagingDirName)) << "staging file left behind";
}

// A write that fails (here EFBIG from RLIMIT_FSIZE, standing in for ENOSPC: tests/stress/full_disk found that a
// close after a failed writeback published a torn or undecryptable file under the final name at release): the
// changes are dropped with their staging file, later writes, flush and release report or log the error, nothing is
// published, and the previous version stays.
TEST_F(PgbrFsTest, FailedWriteIsNeverPublished) {
  const Bytes v1 = test::patternBytes(5000, 1);
  writeFile("notes.txt", v1);
  const Bytes cipherV1 = test::readFile(backing_.path() / "notes.txt");
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto oldSignal = ::signal(SIGXFSZ, SIG_IGN);
  const struct rlimit small = {100000, old.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const Bytes big = test::patternBytes(400000, 2);
  auto writeUntilFailure = [&](FileHandle& handle) {
    try {
      for (std::size_t off = 0; off < big.size(); off += 65536)
        fs_->write(handle, off, ByteView(big).subspan(off, std::min<std::size_t>(65536, big.size() - off)));
    } catch (const FsError& e) {
      return e.errorNumber();
    }
    return 0;
  };
  // An existing file rewritten (O_TRUNC), and a new one.
  std::unique_ptr<FileHandle> existing = fs_->open("notes.txt", O_WRONLY | O_TRUNC);
  std::unique_ptr<FileHandle> created = fs_->create("new.txt", 0640, O_WRONLY | O_CREAT | O_TRUNC, kRoot);
  const int existingError = writeUntilFailure(*existing), createdError = writeUntilFailure(*created);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, oldSignal);
  EXPECT_EQ(existingError, EFBIG);
  EXPECT_EQ(createdError, EFBIG);
  EXPECT_TRUE(stdfs::is_empty(backing_.path() / kStagingDirName)) << "the failed changes' staging files are kept";
  try {
    fs_->write(*existing, 0, asBytes("more"));  // space is back: still refused, the content before it is lost
    ADD_FAILURE() << "a write after a failed write succeeded";
  } catch (const FsError& e) {
    EXPECT_EQ(e.errorNumber(), EFBIG);
    EXPECT_NE(std::string(e.what()).find("previous version is unchanged"), std::string::npos) << e.what();
  }
  for (auto* handle : {&existing, &created}) {
    try {
      fs_->flush(**handle);
      ADD_FAILURE() << "close after a failed write succeeded";
    } catch (const FsError& e) {
      EXPECT_EQ(e.errorNumber(), EFBIG);
    }
    fs_->release(std::move(*handle));
  }
  EXPECT_EQ(test::readFile(backing_.path() / "notes.txt"), cipherV1);
  EXPECT_EQ(readAll("notes.txt"), v1);
  EXPECT_FALSE(stdfs::exists(backing_.path() / "new.txt"));
  EXPECT_TRUE(stdfs::is_empty(backing_.path() / kStagingDirName));
  writeFile("notes.txt", big);  // a new open starts over
  EXPECT_EQ(readAll("notes.txt"), big);
}

TEST_F(PgbrFsTest, StagingLivesOutsideTheRepositoryDirectories) {
  stdfs::create_directories(backing_.path() / "d");
  std::unique_ptr<FileHandle> handle = fs_->create("d/notes.txt", 0640, O_WRONLY | O_CREAT, kRoot);
  fs_->write(*handle, 0, asBytes("partial"));
  EXPECT_TRUE(stdfs::is_empty(backing_.path() / "d"));
  EXPECT_FALSE(stdfs::is_empty(backing_.path() / kStagingDirName));
  // Hidden from the mount and reserved.
  for (const DirEntry& entry : fs_->readdir("")) EXPECT_NE(entry.name, kStagingDirName);
  EXPECT_THROW(fs_->getattr(kStagingDirName, nullptr), FsError);
  EXPECT_THROW(fs_->mkdir(kStagingDirName, 0700, kRoot), FsError);
  fs_->flush(*handle);
  fs_->release(std::move(handle));
  EXPECT_EQ(readAll("d/notes.txt"), Bytes(asBytes("partial").begin(), asBytes("partial").end()));
}

TEST_F(PgbrFsTest, OneDaemonPerBackingDirectoryAndLeftoversAreSwept) {
  try {
    PgbrFs second(FsOptions{backing_.path().string(), crypto::CipherSpec::none(), false});
    FAIL() << "a second daemon was allowed on the same backing directory";
  } catch (const FsError& e) {
    EXPECT_EQ(e.errorNumber(), EBUSY);
    EXPECT_NE(std::string(e.what()).find("already served by another pgbrfs"), std::string::npos) << e.what();
  }
  // A daemon killed while writing leaves its staging file; the next one removes it.
  fs_.reset();
  test::writeFile(backing_.path() / kStagingDirName / "7", asBytes("torn"));
  fs_ = std::make_unique<PgbrFs>(FsOptions{backing_.path().string(),
                                           crypto::CipherSpec::aes256Cbc(crypto::Secret(test::vectorPassphrase("repo"))),
                                           false});
  EXPECT_TRUE(stdfs::is_empty(backing_.path() / kStagingDirName));
}

TEST_F(PgbrFsTest, UnlinkedOpenFileOutlivesItsDirectory) {
  fs_->mkdir("d", 0750, kRoot);
  writeFile("d/notes.txt", asBytes("hello"));
  std::unique_ptr<FileHandle> writer = fs_->open("d/notes.txt", O_RDWR);
  fs_->unlink("d/notes.txt");
  fs_->rmdir("d");
  fs_->write(*writer, 5, asBytes(" world"));  // stages after the directory is gone
  fs_->truncate("", 8, writer.get());
  fs_->fsync(*writer);
  EXPECT_EQ(fs_->getattr("", writer.get()).st_size, 8);
  Bytes all(8);
  EXPECT_EQ(fs_->read(*writer, 0, all), 8u);
  EXPECT_EQ(asText(all), "hello wo");
  fs_->chmod("", 0600, writer.get());
  fs_->flush(*writer);
  fs_->release(std::move(writer));
  EXPECT_FALSE(stdfs::exists(backing_.path() / "d"));
  EXPECT_TRUE(stdfs::is_empty(backing_.path() / kStagingDirName));
}

TEST_F(PgbrFsTest, EveryHandleSeesTheLatestPublishedContent) {
  writeFile("notes.txt", asBytes("old!"));
  std::unique_ptr<FileHandle> reader = fs_->open("notes.txt", O_RDONLY);
  std::unique_ptr<FileHandle> writer = fs_->open("notes.txt", O_WRONLY);
  fs_->write(*writer, 0, asBytes("new!"));
  fs_->flush(*writer);
  fs_->release(std::move(writer));
  Bytes out(4);
  EXPECT_EQ(fs_->read(*reader, 0, out), 4u);
  EXPECT_EQ(asText(out), "new!");
  // A file renamed over it replaces the name, not the open file's content.
  writeFile("other.txt", asBytes("other"));
  fs_->rename("other.txt", "notes.txt", 0);
  EXPECT_EQ(fs_->read(*reader, 0, out), 4u);
  EXPECT_EQ(asText(out), "new!");
  fs_->release(std::move(reader));
  EXPECT_EQ(readAll("notes.txt"), Bytes(asBytes("other").begin(), asBytes("other").end()));
}

TEST_F(PgbrFsTest, RenameAcrossKeysIsExdev) {
  writeFile("archive/demo/15-1/a", asBytes("x"));
  try {
    fs_->rename("archive/demo/15-1/a", "backup/demo/20261128-051344F/a", 0);
    FAIL();
  } catch (const FsError& e) {
    EXPECT_EQ(e.errorNumber(), EXDEV);
  }
  fs_->rename("archive/demo/15-1/a", "archive/demo/15-1/b", 0);
  EXPECT_EQ(readAll("archive/demo/15-1/b"), Bytes{'x'});
  // A temporary name has the key of its final name.
  writeFile("archive/demo/archive.info.pgbackrest.tmp",
            test::readFile(test::vectorsPath("plaintext/repo-enc/archive/demo/archive.info")));
  fs_->rename("archive/demo/archive.info.pgbackrest.tmp", "archive/demo/archive.info", 0);
  EXPECT_EQ(backingDecrypted("archive/demo/archive.info", "repo"),
            test::readFile(test::vectorsPath("plaintext/repo-enc/archive/demo/archive.info")));
}

TEST_F(PgbrFsTest, GoverningFileWithoutCipherPassIsRefusedAtClose) {
  const Bytes before = test::readFile(backing_.path() / "archive/demo/archive.info");
  const Bytes plain = test::readFile(test::vectorsPath("repo-plain/archive/demo/archive.info"));
  std::unique_ptr<FileHandle> handle = fs_->create("archive/demo/archive.info", 0640, O_WRONLY | O_TRUNC, kRoot);
  fs_->write(*handle, 0, plain);
  try {
    fs_->flush(*handle);
    FAIL() << "an archive.info without cipher-pass was accepted";
  } catch (const FsError& e) {
    EXPECT_EQ(e.errorNumber(), EIO);
    EXPECT_NE(std::string(e.what()).find("no [cipher] cipher-pass"), std::string::npos) << e.what();
  }
  fs_->release(std::move(handle));
  EXPECT_EQ(test::readFile(backing_.path() / "archive/demo/archive.info"), before);
}

TEST_F(PgbrFsTest, WritingWithoutGoverningFileFails) {
  stdfs::create_directories(backing_.path() / "archive/other/15-1");
  try {
    fs_->create("archive/other/15-1/x", 0640, O_WRONLY, kRoot);
    FAIL();
  } catch (const backup::KeyUnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("archive/other/archive.info"), std::string::npos) << e.what();
  }
}

TEST_F(PgbrFsTest, OpenUnlinkedFilesKeepWorking) {
  writeFile("notes.txt", asBytes("hello"));
  std::unique_ptr<FileHandle> reader = fs_->open("notes.txt", O_RDONLY);
  std::unique_ptr<FileHandle> writer = fs_->open("notes.txt", O_RDWR);
  fs_->unlink("notes.txt");
  Bytes out(5);
  EXPECT_EQ(fs_->read(*reader, 0, out), 5u);
  EXPECT_EQ(asText(out), "hello");
  fs_->write(*writer, 5, asBytes(" world"));
  fs_->fsync(*writer);
  Bytes all(11);
  EXPECT_EQ(fs_->read(*writer, 0, all), 11u);
  EXPECT_EQ(asText(all), "hello world");
  EXPECT_EQ(fs_->getattr("", writer.get()).st_size, 11);
  fs_->flush(*writer);
  EXPECT_FALSE(stdfs::exists(backing_.path() / "notes.txt")) << "an unlinked file was published";
  fs_->release(std::move(writer));
  fs_->release(std::move(reader));
}

TEST_F(PgbrFsTest, CorruptFileIsEioButListable) {
  const std::string path = "backup/demo/20261128-051344F/pg_data/PG_VERSION.gz";
  Bytes stored = test::readFile(backing_.path() / path);
  stored.resize(stored.size() - 7);
  test::writeFile(backing_.path() / path, stored);
  EXPECT_EQ(fs_->getattr(path, nullptr).st_size, 0);
  EXPECT_THROW(fs_->open(path, O_RDONLY), crypto::CryptoError);
  EXPECT_NO_THROW(readAll("backup/demo/20261128-051344F/pg_data/backup_label.gz"));
}

TEST_F(PgbrFsTest, AttributesOfTheRootChange) {
  fs_->chmod("", 0750, nullptr);
  EXPECT_EQ(fs_->getattr("", nullptr).st_mode & 07777, 0750u);
  fs_->chown("", 0, 0, nullptr);
  const struct timespec times[2] = {{1000, 0}, {2000, 0}};
  fs_->utimens("", times, nullptr);
  EXPECT_EQ(fs_->getattr("", nullptr).st_mtim.tv_sec, 2000);
}

TEST_F(PgbrFsTest, CipherTypeAttribute) {
  EXPECT_EQ(fs_->getxattr("", "user.pgbrfs.cipher-type"), "aes-256-cbc");
  EXPECT_EQ(fs_->getxattr("archive/demo/archive.info", "user.pgbrfs.cipher-type"), "aes-256-cbc");
  EXPECT_FALSE(fs_->getxattr("", "user.other"));
}

TEST_F(PgbrFsTest, StagingNamesAreReserved) {
  EXPECT_THROW(fs_->create(".pgbrfs-stage.x", 0640, O_WRONLY, kRoot), FsError);
  stdfs::create_directories(backing_.path() / "d");
  test::writeFile(backing_.path() / "d/.pgbrfs-stage.dead.1", asBytes("stale"));
  for (const DirEntry& entry : fs_->readdir("d")) EXPECT_FALSE(isStagingName(entry.name));
  fs_->rmdir("d");  // stale staging files do not keep a directory alive
  EXPECT_FALSE(stdfs::exists(backing_.path() / "d"));
}

TEST_F(PgbrFsTest, TruncateByNameAndAppend) {
  writeFile("notes.txt", test::patternBytes(1000, 3));
  fs_->truncate("notes.txt", 10, nullptr);
  EXPECT_EQ(fs_->getattr("notes.txt", nullptr).st_size, 10);
  Bytes expected = test::patternBytes(1000, 3);
  expected.resize(10);
  EXPECT_EQ(readAll("notes.txt"), expected);
  std::unique_ptr<FileHandle> handle = fs_->open("notes.txt", O_WRONLY | O_APPEND);
  fs_->write(*handle, 0, asBytes("++"));  // no writeback cache here: O_APPEND is ours to honour
  fs_->flush(*handle);
  fs_->release(std::move(handle));
  expected.push_back('+');
  expected.push_back('+');
  EXPECT_EQ(readAll("notes.txt"), expected);
}


Bytes asBytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

// A view serving "v/" with one file that records what was written to it and fails close() when told to.
class RecordingView : public View {
 public:
  struct File : ViewFile {
    explicit File(RecordingView& v) : view(v) {}
    struct stat attributes() override {
      struct stat st {};
      st.st_mode = S_IFREG | 0640;
      st.st_size = static_cast<off_t>(view.content.size());
      return st;
    }
    std::size_t read(std::uint64_t offset, MutableByteView out) override {
      if (offset >= view.content.size()) return 0;
      const std::size_t n = std::min<std::size_t>(out.size(), view.content.size() - offset);
      std::copy_n(view.content.begin() + static_cast<std::ptrdiff_t>(offset), n, out.begin());
      return n;
    }
    void write(std::uint64_t offset, ByteView data) override {
      if (view.content.size() < offset + data.size()) view.content.resize(offset + data.size());
      std::copy(data.begin(), data.end(), view.content.begin() + static_cast<std::ptrdiff_t>(offset));
    }
    void flush() override {
      view.flushes++;
      if (view.failClose) throw FsError(EIO, "refused");
    }
    RecordingView& view;
  };
  bool serves(const std::string& path) const override { return path == "v" || path.starts_with("v/"); }
  struct stat getattr(const std::string& path) override {
    if (path == "v") {
      struct stat st {};
      st.st_mode = S_IFDIR | 0755;
      return st;
    }
    if (path != "v/file") throw FsError(ENOENT, "absent");
    return File(*this).attributes();
  }
  std::vector<DirEntry> readdir(const std::string&) override { return {{"file", S_IFREG, 7}}; }
  std::unique_ptr<ViewFile> open(const std::string& path, int, Caller) override {
    if (path != "v/file") throw FsError(ENOENT, "absent");
    return std::make_unique<File>(*this);
  }
  std::unique_ptr<ViewFile> create(const std::string& path, mode_t, int, Caller caller) override {
    lastCreator = caller.uid;
    return open(path, 0, caller);
  }
  std::vector<DirEntry> entriesIn(const std::string& dir) override {
    if (dir.empty()) return {{"v", S_IFDIR, 5}};
    return {};
  }

  Bytes content;
  int flushes = 0;
  bool failClose = false;
  uid_t lastCreator = 0;
};

TEST_F(PgbrFsTest, ViewsServeTheirPathsAndRefuseTheRest) {
  auto owned = std::make_unique<RecordingView>();
  RecordingView& view = *owned;
  fs_->addView(std::move(owned));

  const std::vector<DirEntry> root = fs_->readdir("");
  EXPECT_EQ(std::count_if(root.begin(), root.end(), [](const DirEntry& e) { return e.name == "v"; }), 1);
  EXPECT_TRUE(std::any_of(root.begin(), root.end(), [](const DirEntry& e) { return e.name == "backup"; }));
  EXPECT_TRUE(S_ISDIR(fs_->getattr("v", nullptr).st_mode));

  std::unique_ptr<FileHandle> handle = fs_->create("v/file", 0640, O_WRONLY | O_CREAT, Caller{1234, 1234});
  EXPECT_EQ(view.lastCreator, 1234u);
  fs_->write(*handle, 0, asBytes("through the view"));
  fs_->flush(*handle);
  EXPECT_EQ(view.flushes, 1);
  fs_->release(std::move(handle));
  EXPECT_EQ(readAll("v/file"), asBytes("through the view"));
  EXPECT_FALSE(stdfs::exists(backing_.path() / "v"));  // nothing reached the backing tree

  view.failClose = true;
  handle = fs_->open("v/file", O_WRONLY);
  fs_->write(*handle, 0, asBytes("x"));
  try {
    fs_->flush(*handle);
    ADD_FAILURE() << "close() of a view file that refused its content succeeded";
  } catch (const FsError& e) {
    EXPECT_EQ(e.errorNumber(), EIO);
  }
  fs_->release(std::move(handle));

  for (const auto& refused : std::vector<std::function<void()>>{
           [&] { fs_->mkdir("v/dir", 0750, kRoot); },
           [&] { fs_->unlink("v/file"); },
           [&] { fs_->rename("v/file", "v/other", 0); },
           [&] { fs_->rename("backup/demo/backup.info", "v/file", 0); },
           [&] { fs_->chmod("v/file", 0600, nullptr); },
       }) {
    try {
      refused();
      ADD_FAILURE() << "a view accepted a change it does not support";
    } catch (const FsError& e) {
      EXPECT_EQ(e.errorNumber(), EROFS);
    }
  }
  EXPECT_THROW(fs_->getattr("v/absent", nullptr), FsError);
  EXPECT_FALSE(fs_->getxattr("v/file", "user.pgbrfs.cipher-type").has_value());
}

}  // namespace
}  // namespace pgbr::fs
