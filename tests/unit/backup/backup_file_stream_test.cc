// Streaming the plaintext of backup files: every compress type, plain and encrypted, bundle members at their
// offsets, out-of-order and backward reads, and the end-of-file check against the manifest (corrupt, truncated,
// wrong size, missing, block incremental). Repositories are written with the product's own write path
// (addRepoWriteFilters); the pgBackRest-written vectors are read through the snapshot view in fs_core_test.
#include "backup/backup_file_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "backup/backup_error.h"
#include "backup/format_error.h"
#include "backup/repo_filters.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

namespace stdfs = std::filesystem;

const crypto::CipherSpec kPlain = crypto::CipherSpec::none();

crypto::CipherSpec aes() { return crypto::CipherSpec::aes256Cbc(crypto::Secret(std::string("snapshot-test-pass"))); }

struct Stored {
  Bytes bytes;
  RepoWriteResult result;
};

// The bytes pgBackRest would store for `plain`: compressed, then encrypted.
Stored store(ByteView plain, CompressType type, const crypto::CipherSpec& cipher) {
  Stored out;
  BytesSink sink(out.bytes);
  Pipeline pipeline(sink);
  RepoWriteSpec spec;
  spec.compressType = type;
  spec.cipher = cipher;
  const RepoWriteMeters meters = addRepoWriteFilters(pipeline, spec);
  pipeline.write(plain);
  pipeline.close();
  out.result = meters.result();
  return out;
}

class BackupFileStreamTest : public ::testing::Test {
 protected:
  // Writes `plain` as backup/demo/L/pg_data/<name><ext> and describes it.
  StoredBackupFile put(const std::string& name, ByteView plain, CompressType type, const crypto::CipherSpec& cipher) {
    const Stored stored = store(plain, type, cipher);
    StoredBackupFile file;
    file.name = "pg_data/" + name;
    file.repoPath = "backup/demo/L/pg_data/" + name + std::string(compressExtension(type));
    file.compressType = type;
    file.size = stored.result.size;
    file.checksum = stored.result.checksum;
    stdfs::create_directories((dir_.path() / file.repoPath).parent_path());
    test::writeFile(dir_.path() / file.repoPath, stored.bytes);
    return file;
  }

  Bytes readAll(BackupFileReader& reader, std::size_t chunk = 65536) {
    Bytes out(reader.file().size);
    std::size_t done = 0;
    while (done < out.size()) {
      const std::size_t n = reader.read(done, MutableByteView(out).subspan(done, std::min(chunk, out.size() - done)));
      if (n == 0) break;
      done += n;
    }
    out.resize(done);
    return out;
  }

  std::string failureOf(BackupFileReader& reader) {
    try {
      readAll(reader);
    } catch (const FormatError& e) {
      return e.what();
    }
    return "";
  }

  test::TempDir dir_;
  PosixStorage repo_{dir_.path().string()};
};

TEST_F(BackupFileStreamTest, EveryCompressTypePlainAndEncryptedReadsBack) {
  const Bytes plain = test::patternBytes(300000, 7);
  for (const CompressType type :
       {CompressType::None, CompressType::Gz, CompressType::Bz2, CompressType::Lz4, CompressType::Zst}) {
    for (const bool encrypted : {false, true}) {
      SCOPED_TRACE(std::string(compressTypeName(type)) + (encrypted ? " encrypted" : " plain"));
      const crypto::CipherSpec cipher = encrypted ? aes() : kPlain;
      BackupFileReader reader(repo_, put("f" + std::string(compressTypeName(type)), plain, type, cipher), cipher);
      EXPECT_EQ(readAll(reader, 8192), plain);
      Bytes byte(1);
      EXPECT_EQ(reader.read(plain.size(), MutableByteView(byte)), 0u);  // past the end
    }
  }
}

TEST_F(BackupFileStreamTest, EmptyFileNeedsNoRepositoryFile) {
  StoredBackupFile file;
  file.name = "pg_data/empty";
  file.repoPath = "backup/demo/L/bundle/1";  // a bundled empty file is not stored at all
  file.length = 0;
  file.checksum = kEmptySha1;
  BackupFileReader reader(repo_, file, aes());
  Bytes out(16);
  EXPECT_EQ(reader.read(0, MutableByteView(out)), 0u);
}

// FORMAT.md §6, §12: a bundle is the members' stored bytes one after the other, each compressed and encrypted on its
// own; the manifest gives each member's offset and repo-size.
TEST_F(BackupFileStreamTest, BundleMembersAreReadAtTheirOffsetsWithTheBundleKey) {
  const std::vector<Bytes> plains = {test::patternBytes(5000, 1), test::patternBytes(70000, 2), Bytes(8192, 0)};
  Bytes bundle;
  std::vector<StoredBackupFile> members;
  for (std::size_t i = 0; i < plains.size(); i++) {
    const Stored stored = store(plains[i], CompressType::Gz, aes());
    StoredBackupFile file;
    file.name = "pg_data/member" + std::to_string(i);
    file.repoPath = "backup/demo/L/bundle/3";
    file.offset = bundle.size();
    file.length = stored.bytes.size();
    file.compressType = CompressType::Gz;
    file.size = plains[i].size();
    file.checksum = stored.result.checksum;
    members.push_back(file);
    bundle.insert(bundle.end(), stored.bytes.begin(), stored.bytes.end());
  }
  stdfs::create_directories(dir_.path() / "backup/demo/L/bundle");
  test::writeFile(dir_.path() / "backup/demo/L/bundle/3", bundle);
  for (std::size_t i : {2u, 0u, 1u}) {
    BackupFileReader reader(repo_, members[i], aes());
    EXPECT_EQ(readAll(reader), plains[i]) << i;
  }
  // A member that would run past the end of the bundle.
  StoredBackupFile cut = members[2];
  cut.length = *cut.length + 100;
  BackupFileReader reader(repo_, cut, aes());
  EXPECT_NE(failureOf(reader).find("ends 100 bytes before the end of the bundle member"), std::string::npos);
}

TEST_F(BackupFileStreamTest, OutOfOrderReadsStayInTheWindowAndBackwardReadsRestart) {
  // Larger than the window, so that sequential reading must slide it.
  const Bytes plain = test::patternBytes(BackupFileReader::kWindow * 2 + 12345, 3);
  BackupFileReader reader(repo_, put("big", plain, CompressType::Gz, aes()), aes());
  constexpr std::size_t kChunk = 128 * 1024;
  Bytes out(plain.size());
  // The kernel's read-ahead from several threads: pairs of chunks arrive swapped.
  std::vector<std::size_t> offsets;
  for (std::size_t offset = 0; offset < plain.size(); offset += kChunk) offsets.push_back(offset);
  for (std::size_t i = 0; i + 1 < offsets.size(); i += 2) std::swap(offsets[i], offsets[i + 1]);
  for (const std::size_t offset : offsets) {
    std::size_t done = 0;
    const std::size_t want = std::min(kChunk, plain.size() - offset);
    while (done < want) {
      const std::size_t n = reader.read(offset + done, MutableByteView(out).subspan(offset + done, want - done));
      ASSERT_NE(n, 0u);
      done += n;
    }
  }
  EXPECT_EQ(out, plain);
  EXPECT_EQ(reader.restarts(), 1u);  // the first decoder served everything
  // Back to the start: decoding restarts and gives the same bytes.
  Bytes head(1000);
  EXPECT_EQ(reader.read(0, MutableByteView(head)), head.size());
  EXPECT_TRUE(std::equal(head.begin(), head.end(), plain.begin()));
  EXPECT_EQ(reader.restarts(), 2u);
  // A jump forward decodes through; the bytes are right.
  EXPECT_EQ(reader.read(plain.size() - 10, MutableByteView(head).first(10)), 10u);
  EXPECT_TRUE(std::equal(head.begin(), head.begin() + 10, plain.end() - 10));
  EXPECT_EQ(reader.restarts(), 2u);
}

// Found with cp -a of a snapshot: with 1 MiB of read-ahead on several FUSE threads, reads arrive up to ~4.5 MiB behind
// the newest one. A 4 MiB window restarted the decoding of large files from their start again and again.
TEST_F(BackupFileStreamTest, ReadAheadSeveralMegabytesOutOfOrderNeverRestarts) {
  const Bytes plain = test::patternBytes(3 * BackupFileReader::kWindow / 2 + 4321, 5);
  BackupFileReader reader(repo_, put("bigger", plain, CompressType::Gz, aes()), aes());
  constexpr std::size_t kChunk = 128 * 1024, kGroup = 36;  // 4.5 MiB read newest first
  std::vector<std::size_t> offsets;
  for (std::size_t offset = 0; offset < plain.size(); offset += kChunk) offsets.push_back(offset);
  for (std::size_t i = 0; i < offsets.size(); i += kGroup)
    std::reverse(offsets.begin() + static_cast<std::ptrdiff_t>(i),
                 offsets.begin() + static_cast<std::ptrdiff_t>(std::min(offsets.size(), i + kGroup)));
  Bytes out(plain.size());
  for (const std::size_t offset : offsets) {
    const std::size_t want = std::min(kChunk, plain.size() - offset);
    ASSERT_EQ(reader.read(offset, MutableByteView(out).subspan(offset, want)), want) << offset;
  }
  EXPECT_EQ(out, plain);
  EXPECT_EQ(reader.restarts(), 1u);
}

TEST_F(BackupFileStreamTest, CorruptCiphertextFailsAtTheEndNamingBothFiles) {
  const Bytes plain = test::patternBytes(200000, 4);
  const StoredBackupFile file = put("base/1/16384", plain, CompressType::None, aes());
  // Flip one byte in the middle of the ciphertext: CBC garbles two blocks, the padding stays valid.
  Bytes bytes = test::readFile(dir_.path() / file.repoPath);
  bytes[bytes.size() / 2] ^= 0x01;
  test::writeFile(dir_.path() / file.repoPath, bytes);
  BackupFileReader reader(repo_, file, aes());
  Bytes first(65536);
  EXPECT_EQ(reader.read(0, MutableByteView(first)), first.size());  // early reads cannot know yet
  const std::string message = failureOf(reader);
  EXPECT_NE(message.find("'pg_data/base/1/16384'"), std::string::npos) << message;
  EXPECT_NE(message.find(repo_.root() + "/" + file.repoPath), std::string::npos) << message;
  EXPECT_NE(message.find("backup manifest records checksum '" + file.checksum + "'"), std::string::npos) << message;
  // Every later read fails too, from any offset.
  EXPECT_THROW(reader.read(0, MutableByteView(first)), FormatError);
}

TEST_F(BackupFileStreamTest, TruncatedStreamWrongSizeAndWrongChecksumFail) {
  const Bytes plain = test::patternBytes(100000, 5);
  {
    const StoredBackupFile file = put("truncated", plain, CompressType::Gz, aes());
    Bytes bytes = test::readFile(dir_.path() / file.repoPath);
    bytes.resize(bytes.size() / 2 / 16 * 16);
    test::writeFile(dir_.path() / file.repoPath, bytes);
    BackupFileReader reader(repo_, file, aes());
    EXPECT_NE(failureOf(reader).find("unable to read 'pg_data/truncated' from repository file"), std::string::npos);
  }
  {
    StoredBackupFile file = put("longer", plain, CompressType::Zst, kPlain);
    file.size -= 1;  // the stream holds one byte more than the manifest says
    BackupFileReader reader(repo_, file, kPlain);
    EXPECT_NE(failureOf(reader).find("and size 100000, but the backup manifest records"), std::string::npos);
  }
  {
    StoredBackupFile file = put("shorter", plain, CompressType::Lz4, kPlain);
    file.size += 10;
    BackupFileReader reader(repo_, file, kPlain);
    EXPECT_NE(failureOf(reader).find("and size 100000, but the backup manifest records"), std::string::npos);
  }
  {
    StoredBackupFile file = put("checksum", plain, CompressType::None, kPlain);
    file.checksum = std::string(40, '0');
    BackupFileReader reader(repo_, file, kPlain);
    EXPECT_NE(failureOf(reader).find("records checksum '0000"), std::string::npos);
  }
}

TEST_F(BackupFileStreamTest, MissingAndBlockIncrementalFilesAreRefusedAtOpen) {
  StoredBackupFile file;
  file.name = "pg_data/base/1/1";
  file.repoPath = "backup/demo/L/pg_data/base/1/1.gz";
  file.size = 10;
  try {
    BackupFileReader reader(repo_, file, kPlain);
    ADD_FAILURE() << "a missing repository file opened";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("holding 'pg_data/base/1/1' is missing"), std::string::npos) << e.what();
  }
  file.blockIncremental = true;
  EXPECT_THROW(BackupFileReader(repo_, file, kPlain), UnsupportedError);
}

// FORMAT.md §5.2: reference, bundle, extension.
TEST(StoredBackupFileTest, ResolvesReferenceBundleAndCompressType) {
  Manifest manifest;
  manifest.backup.label = "20260101-000000F_20260101-000100I";
  manifest.options.compressType = "zst";
  ManifestFile own;
  own.name = "pg_data/PG_VERSION";
  own.checksum = "abc";
  own.size = 3;
  StoredBackupFile stored = storedBackupFile(manifest, own, "demo");
  EXPECT_EQ(stored.repoPath, "backup/demo/20260101-000000F_20260101-000100I/pg_data/PG_VERSION.zst");
  EXPECT_FALSE(stored.length);
  EXPECT_EQ(stored.compressType, CompressType::Zst);
  EXPECT_EQ(stored.checksum, "abc");

  ManifestFile referenced;
  referenced.name = "pg_data/base/1/2";
  referenced.reference = "20260101-000000F";
  stored = storedBackupFile(manifest, referenced, "demo");
  EXPECT_EQ(stored.repoPath, "backup/demo/20260101-000000F/pg_data/base/1/2.zst");
  EXPECT_EQ(stored.checksum, kEmptySha1);

  ManifestFile bundled;
  bundled.name = "pg_data/base/1/3";
  bundled.bundleId = 7;
  bundled.bundleOffset = 900;
  bundled.reference = "20260101-000000F";
  bundled.repoSize = 41;
  bundled.size = 8192;
  manifest.backup.bundleRaw = true;
  stored = storedBackupFile(manifest, bundled, "demo");
  EXPECT_EQ(stored.repoPath, "backup/demo/20260101-000000F/bundle/7");
  EXPECT_EQ(stored.offset, 900u);
  EXPECT_EQ(stored.length, 41u);
  EXPECT_TRUE(stored.raw);

  manifest.options.compressType = std::nullopt;
  manifest.options.compress = true;  // manifests before compress-type
  EXPECT_TRUE(storedBackupFile(manifest, own, "demo").repoPath.ends_with("/PG_VERSION.gz"));
  manifest.options.compressType = "snappy";
  EXPECT_THROW(storedBackupFile(manifest, own, "demo"), FormatError);
}

}  // namespace
}  // namespace pgbr::backup
