// The WAL view on PgbrFs without a mount: a copy of the pgBackRest-written encrypted vectors repository (stanza
// "demo", segment 000000010000000000000003 archived), written and read exactly as the FUSE bridge calls PgbrFs.
#include "fs/wal_archive_view.h"
#include "fs/wal_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>

#include "backup/compress_type.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/sha1.h"
#include "fs/fs_error.h"
#include "fs/pgbrfs.h"
#include "unit/test_support.h"

namespace pgbr::fs {
namespace {

namespace stdfs = std::filesystem;

constexpr const char* kArchived = "000000010000000000000003";
constexpr const char* kArchivedSha1 = "a9857f3e4a10e6faa1dc1476950a83d86b370060";
const Caller kWriter{1234, 2345};

Bytes vectorSegment() {
  return test::readFile(test::vectorsPath("plaintext/repo-enc/archive/demo/15-1/0000000100000000/" +
                                          std::string(kArchived) + "-" + kArchivedSha1));
}

int errnoOf(const std::function<void()>& body) {
  try {
    body();
  } catch (const FsError& e) {
    return e.errorNumber();
  }
  return 0;
}

class WalViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stdfs::copy(test::vectorsPath("repo-enc"), backing_.path(), stdfs::copy_options::recursive);
    fs_ = std::make_unique<PgbrFs>(FsOptions{
        backing_.path().string(), crypto::CipherSpec::aes256Cbc(crypto::Secret(test::vectorPassphrase("repo"))), true});
    fs_->addView(std::make_unique<WalArchiveView>(*fs_, WalViewOptions{}));
  }

  Bytes readAll(const std::string& path) {
    std::unique_ptr<FileHandle> handle = fs_->open(path, O_RDONLY);
    Bytes out(static_cast<std::size_t>(fs_->getattr(path, handle.get()).st_size));
    std::size_t done = 0;
    while (done < out.size()) {
      const std::size_t n = fs_->read(*handle, done, MutableByteView(out).subspan(done));
      if (n == 0) break;
      done += n;
    }
    EXPECT_EQ(done, out.size());
    fs_->release(std::move(handle));
    return out;
  }

  // What `cp` does: create, write (here in reverse chunk order, as the writeback cache may), close.
  std::unique_ptr<FileHandle> write(const std::string& path, ByteView data) {
    std::unique_ptr<FileHandle> handle = fs_->create(path, 0600, O_WRONLY | O_CREAT | O_TRUNC, kWriter);
    constexpr std::size_t kChunk = 1u << 20;
    std::size_t chunks = (data.size() + kChunk - 1) / kChunk;
    for (std::size_t i = chunks; i-- > 0;)
      fs_->write(*handle, i * kChunk, data.subspan(i * kChunk, std::min(kChunk, data.size() - i * kChunk)));
    return handle;
  }

  // cp into the inbox; the errno close() gives (0: archived).
  int push(const std::string& path, ByteView data) {
    std::unique_ptr<FileHandle> handle = write(path, data);
    const int error = errnoOf([&] { fs_->flush(*handle); });
    fs_->release(std::move(handle));
    return error;
  }

  std::map<std::string, Bytes> backingFiles() {
    std::map<std::string, Bytes> files;
    for (const auto& entry : stdfs::recursive_directory_iterator(backing_.path()))
      if (entry.is_regular_file() && entry.path().string().find(".pgbrfs-staging") == std::string::npos)
        files[stdfs::relative(entry.path(), backing_.path()).string()] = test::readFile(entry.path());
    return files;
  }

  test::TempDir backing_;
  std::unique_ptr<PgbrFs> fs_;
};

TEST(WalPath, ServesWalNamesDirectlyInAStanzaDirectory) {
  EXPECT_TRUE(parseWalPath("archive/demo/000000010000000000000003"));
  EXPECT_TRUE(parseWalPath("archive/demo/000000010000000000000003.partial"));
  EXPECT_TRUE(parseWalPath("archive/demo/00000002.history"));
  EXPECT_TRUE(parseWalPath("archive/demo/000000010000000000000003.00000028.backup"));
  EXPECT_EQ(parseWalPath("archive/db-2/00000002.history")->stanza, "db-2");
  for (const char* other : {"archive/demo/archive.info", "archive/demo/archive.info.copy", "archive/demo/15-1",
                            "archive/demo", "archive", "archive/000000010000000000000003",
                            "archive/demo/15-1/000000010000000000000003", "backup/demo/000000010000000000000003",
                            "archive//000000010000000000000003", "archive/demo/00000001000000000000000G",
                            "archive/demo/RECOVERYXLOG"})
    EXPECT_FALSE(parseWalPath(other)) << other;
}

TEST_F(WalViewTest, ArchivedSegmentReadsAsItsPlaintext) {
  const std::string path = "archive/demo/" + std::string(kArchived);
  const Bytes wal = vectorSegment();
  const struct stat st = fs_->getattr(path, nullptr);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), wal.size());
  EXPECT_EQ(readAll(path), wal);
  EXPECT_EQ(readAll("archive/demo/00000002.history"),
            test::readFile(test::vectorsPath("plaintext/repo-enc/archive/demo/15-1/00000002.history")));
  EXPECT_EQ(readAll("archive/demo/000000010000000000000003.00000028.backup"),
            test::readFile(test::vectorsPath(
                "plaintext/repo-enc/archive/demo/15-1/0000000100000000/000000010000000000000003.00000028.backup")));
  // The raw view keeps everything else; the WAL names are not listed.
  EXPECT_FALSE(readAll("archive/demo/archive.info").empty());
  for (const DirEntry& entry : fs_->readdir("archive/demo")) EXPECT_FALSE(parseWalPath("archive/demo/" + entry.name));
}

TEST_F(WalViewTest, AbsentWalIsEnoent) {
  EXPECT_EQ(errnoOf([&] { fs_->getattr("archive/demo/000000010000000000000004", nullptr); }), ENOENT);
  EXPECT_EQ(errnoOf([&] { fs_->open("archive/demo/000000010000000000000004", O_RDONLY); }), ENOENT);
  EXPECT_EQ(errnoOf([&] { fs_->getattr("archive/demo/00000009.history", nullptr); }), ENOENT);
  stdfs::create_directories(backing_.path() / "archive/nostanza");
  EXPECT_EQ(errnoOf([&] { fs_->getattr("archive/nostanza/000000010000000000000003", nullptr); }), ENOENT);
}

TEST_F(WalViewTest, ClosePushesAsArchivePushDoes) {
  const std::string path = "archive/demo/000000010000000000000004";
  const Bytes wal = vectorSegment();
  std::unique_ptr<FileHandle> handle = write(path, wal);
  // While open, the name is what was written so far, and nothing is in the repository yet.
  EXPECT_EQ(static_cast<std::size_t>(fs_->getattr(path, nullptr).st_size), wal.size());
  EXPECT_EQ(static_cast<std::size_t>(fs_->getattr(path, handle.get()).st_size), wal.size());
  const std::string stored = "archive/demo/15-1/0000000100000000/000000010000000000000004-" +
                             crypto::Sha1::hexOf(wal) + ".gz";
  EXPECT_FALSE(stdfs::exists(backing_.path() / stored));
  fs_->flush(*handle);
  ASSERT_TRUE(stdfs::exists(backing_.path() / stored));
  const struct stat backing = [&] {
    struct stat st {};
    ::stat((backing_.path() / stored).c_str(), &st);
    return st;
  }();
  EXPECT_EQ(backing.st_uid, kWriter.uid);  // owned by whoever wrote it
  EXPECT_EQ(backing.st_gid, kWriter.gid);
  // Encrypted with the archive sub-pass, gz compressed; the plaintext never touched the disk.
  const Bytes compressed =
      crypto::decryptBuffer(crypto::Secret(test::vectorPassphrase("repo-enc.archive")), test::readFile(backing_.path() / stored));
  EXPECT_EQ(test::gunzip(compressed), wal);
  // A second close (dup, a child's inherited descriptor) with nothing new does nothing.
  fs_->flush(*handle);
  fs_->release(std::move(handle));
  struct stat again {};
  ::stat((backing_.path() / stored).c_str(), &again);
  EXPECT_EQ(again.st_ino, backing.st_ino);

  EXPECT_EQ(readAll(path), wal);  // the lookup finds it
  EXPECT_EQ(push(path, wal), 0);  // identical re-push succeeds
  EXPECT_EQ(again.st_ino, [&] {
    struct stat st {};
    ::stat((backing_.path() / stored).c_str(), &st);
    return st.st_ino;
  }());
}

TEST_F(WalViewTest, AReaderOfANameBeingWrittenSeesItAndArchivesNothing) {
  const std::string path = "archive/demo/000000010000000000000004";
  const Bytes wal = vectorSegment();
  std::unique_ptr<FileHandle> writer = fs_->create(path, 0600, O_WRONLY | O_CREAT | O_TRUNC, kWriter);
  fs_->write(*writer, 0, ByteView(wal).first(1000000));
  std::unique_ptr<FileHandle> reader = fs_->open(path, O_RDONLY);
  Bytes seen(2000000);
  EXPECT_EQ(fs_->read(*reader, 0, seen), 1000000u);
  fs_->flush(*reader);  // close of the reader: the half-written segment must not be archived
  fs_->release(std::move(reader));
  for (const auto& entry : stdfs::directory_iterator(backing_.path() / "archive/demo/15-1/0000000100000000"))
    EXPECT_FALSE(entry.path().filename().string().starts_with("000000010000000000000004")) << entry.path();
  fs_->write(*writer, 1000000, ByteView(wal).subspan(1000000));
  fs_->flush(*writer);
  fs_->release(std::move(writer));
  EXPECT_EQ(readAll(path), wal);
}

TEST_F(WalViewTest, CompressTypeFromTheMountOptions) {
  fs_.reset();  // one daemon per backing directory
  fs_ = std::make_unique<PgbrFs>(FsOptions{
      backing_.path().string(), crypto::CipherSpec::aes256Cbc(crypto::Secret(test::vectorPassphrase("repo"))), true});
  fs_->addView(std::make_unique<WalArchiveView>(*fs_, WalViewOptions{backup::CompressType::Zst, 3}));
  const Bytes wal = vectorSegment();
  ASSERT_EQ(push("archive/demo/000000010000000000000005", wal), 0);
  EXPECT_TRUE(stdfs::exists(backing_.path() / ("archive/demo/15-1/0000000100000000/000000010000000000000005-" +
                                               crypto::Sha1::hexOf(wal) + ".zst")));
  EXPECT_EQ(readAll("archive/demo/000000010000000000000005"), wal);
}

TEST_F(WalViewTest, RefusedContentFailsCloseAndLeavesTheRepositoryUnchanged) {
  const auto before = backingFiles();
  Bytes wal = vectorSegment();
  // Different content under an archived name.
  Bytes changed = wal;
  changed[100000] ^= 0xff;
  EXPECT_EQ(push("archive/demo/" + std::string(kArchived), changed), EEXIST);
  // WAL of another cluster (system id in the long page header).
  Bytes foreign = wal;
  foreign[24] ^= 0x01;
  EXPECT_EQ(push("archive/demo/000000010000000000000006", foreign), EINVAL);
  // Not WAL at all.
  EXPECT_EQ(push("archive/demo/000000010000000000000007", asBytes("not a WAL segment")), EINVAL);
  // A stanza directory without archive.info.
  fs_->mkdir("archive/other", 0750, kWriter);
  EXPECT_EQ(push("archive/other/000000010000000000000003", wal), EIO);
  fs_->rmdir("archive/other");
  EXPECT_EQ(backingFiles(), before);
  EXPECT_EQ(readAll("archive/demo/" + std::string(kArchived)), wal);
  EXPECT_EQ(errnoOf([&] { fs_->getattr("archive/demo/000000010000000000000006", nullptr); }), ENOENT);
}

TEST_F(WalViewTest, FailureIsRepeatedWithoutRetryingUntilTheContentChanges) {
  const std::string path = "archive/demo/000000010000000000000008";
  Bytes wal = vectorSegment();
  wal[24] ^= 0x01;
  std::unique_ptr<FileHandle> handle = write(path, wal);
  EXPECT_EQ(errnoOf([&] { fs_->flush(*handle); }), EINVAL);
  EXPECT_EQ(errnoOf([&] { fs_->flush(*handle); }), EINVAL);
  wal[24] ^= 0x01;
  fs_->write(*handle, 24, ByteView(wal).subspan(24, 1));
  EXPECT_EQ(errnoOf([&] { fs_->flush(*handle); }), 0);
  fs_->release(std::move(handle));
  EXPECT_EQ(readAll(path), wal);
}

TEST_F(WalViewTest, SizeIsBounded) {
  std::unique_ptr<FileHandle> handle = fs_->create("archive/demo/000000010000000000000009", 0640, O_WRONLY | O_CREAT, kWriter);
  const Bytes chunk(4096, 1);
  EXPECT_EQ(errnoOf([&] { fs_->write(*handle, kMaxWalFileSize, chunk); }), EFBIG);
  EXPECT_EQ(errnoOf([&] { fs_->truncate("", kMaxWalFileSize + 1, handle.get()); }), EFBIG);
  fs_->release(std::move(handle));
}

TEST_F(WalViewTest, ChecksumMismatchIsEio) {
  // Valid gz content under the name of another checksum, written through the raw view.
  const Bytes wal = vectorSegment();
  const Bytes compressed = crypto::decryptBuffer(
      crypto::Secret(test::vectorPassphrase("repo-enc.archive")),
      test::readFile(backing_.path() / ("archive/demo/15-1/0000000100000000/" + std::string(kArchived) + "-" +
                                        kArchivedSha1 + ".gz")));
  const std::string wrong = "archive/demo/15-1/0000000100000000/00000001000000000000000A-" + std::string(40, 'b') + ".gz";
  std::unique_ptr<FileHandle> handle = fs_->create(wrong, 0640, O_WRONLY | O_CREAT, kWriter);
  fs_->write(*handle, 0, compressed);
  fs_->flush(*handle);
  fs_->release(std::move(handle));
  EXPECT_EQ(errnoOf([&] { fs_->getattr("archive/demo/00000001000000000000000A", nullptr); }), EIO);
  EXPECT_EQ(errnoOf([&] { fs_->open("archive/demo/00000001000000000000000A", O_RDONLY); }), EIO);
}

TEST_F(WalViewTest, OtherChangesAreRefused) {
  const std::string path = "archive/demo/" + std::string(kArchived);
  EXPECT_EQ(errnoOf([&] { fs_->unlink(path); }), EROFS);
  EXPECT_EQ(errnoOf([&] { fs_->rename(path, "archive/demo/x", 0); }), EROFS);
  EXPECT_EQ(errnoOf([&] { fs_->mkdir("archive/demo/000000010000000000000010", 0750, kWriter); }), EROFS);
  EXPECT_TRUE(stdfs::exists(backing_.path() / ("archive/demo/15-1/0000000100000000/" + std::string(kArchived) + "-" +
                                               kArchivedSha1 + ".gz")));
}

// Writes fed as they arrive: in order, ahead of a gap (the writeback cache), or into the part already fed.
TEST(WalStream, HashesAndCompressesWhatArrivesInOrder) {
  const Bytes wal = vectorSegment();
  const std::string sha1 = crypto::Sha1::hexOf(wal);
  const auto feed = [&](WalStream& stream, const std::vector<std::pair<std::size_t, std::size_t>>& writes) {
    for (const auto& [offset, size] : writes) stream.written(wal, offset, size);
  };
  {
    WalStream stream(backup::CompressType::Gz, 3);
    feed(stream, {{0, 1000}, {1000, 5000000}, {5001000, wal.size() - 5001000}});
    std::optional<backup::PreparedWal> prepared = stream.finish(wal);
    ASSERT_TRUE(prepared);
    EXPECT_EQ(prepared->sha1Hex, sha1);
    EXPECT_EQ(test::gunzip(prepared->compressed), wal);
  }
  {
    WalStream stream(backup::CompressType::Gz, 3);
    feed(stream, {{4000000, wal.size() - 4000000}, {1000000, 3000000}, {0, 1000000}, {500, 100}});
    EXPECT_FALSE(stream.finish(wal)) << "a write into the part already fed must break the stream";
  }
  {
    WalStream stream(backup::CompressType::None, 0);
    feed(stream, {{1000000, wal.size() - 1000000}, {0, 1000000}});
    std::optional<backup::PreparedWal> prepared = stream.finish(wal);
    ASSERT_TRUE(prepared);
    EXPECT_EQ(prepared->sha1Hex, sha1);
    EXPECT_TRUE(prepared->compressed.empty());
  }
  {
    WalStream stream(backup::CompressType::Gz, 3);
    feed(stream, {{0, 1000}, {2000, 1000}});  // a hole
    EXPECT_FALSE(stream.finish(ByteView(wal).first(3000)));
  }
}

TEST(WalPlainCache, KeepsTheMostRecentlyUsed) {
  WalPlainCache cache(2);
  cache.store("a", std::make_shared<const Bytes>(Bytes{1}));
  cache.store("b", std::make_shared<const Bytes>(Bytes{2}));
  ASSERT_TRUE(cache.find("a"));
  cache.store("c", std::make_shared<const Bytes>(Bytes{3}));
  EXPECT_TRUE(cache.find("a"));
  EXPECT_FALSE(cache.find("b"));
  EXPECT_TRUE(cache.find("c"));
  EXPECT_EQ(cache.size(), 2u);
}

}  // namespace
}  // namespace pgbr::fs
