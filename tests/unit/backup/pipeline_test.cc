#include "backup/pipeline.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <ostream>
#include <vector>

#include "backup/backup_error.h"
#include "backup/cipher_filter.h"
#include "backup/compress_filter.h"
#include "backup/repo_filters.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/crypto_error.h"
#include "crypto/sha1.h"
#include "unit/backup/filter_test_util.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

using test::CountingSink;
using test::mixedBytes;
using test::pullAll;
using test::pushAll;
using test::SpanSource;
using test::VectorSink;

crypto::CipherSpec aes() { return crypto::CipherSpec::aes256Cbc(crypto::Secret("pgbr-Test-Passphrase-42")); }

TEST(Pipeline, WithoutStagesPassesBytesThrough) {
  const Bytes data = mixedBytes(100000, 1);
  VectorSink sink;
  Pipeline push(sink, 64);
  pushAll(push, data, 1000);
  EXPECT_EQ(sink.bytes, data);
  EXPECT_TRUE(push.ended());

  SpanSource source(data, 333);
  Pipeline pull(source, 64);
  EXPECT_EQ(pullAll(pull, 4096), data);
  EXPECT_TRUE(pull.ended());
  Bytes buffer(10);
  EXPECT_EQ(pull.read(buffer), 0u);  // stays at the end
}

// A `none` compress type or cipher spec adds no stage, only the meters.
TEST(Pipeline, NoneAddsNoStage) {
  VectorSink sink;
  Pipeline plain(sink, 4096);
  addRepoWriteFilters(plain, {CompressType::None, 9, crypto::CipherSpec::none()});
  EXPECT_EQ(plain.stageCount(), 4u);
  EXPECT_EQ(plain.bufferBytes(), 0u);

  Pipeline full(sink, 4096);
  addRepoWriteFilters(full, {CompressType::Gz, std::nullopt, aes()});
  EXPECT_EQ(full.stageCount(), 6u);
  EXPECT_EQ(full.bufferBytes(), 2u * 4096u);

  SpanSource source({});
  Pipeline read(source, 4096);
  addRepoReadFilters(read, {CompressType::None, crypto::CipherSpec::none()});
  EXPECT_EQ(read.stageCount(), 2u);
  EXPECT_EQ(read.bufferBytes(), 0u);
}

struct PathCase {
  CompressType type;
  bool encrypted;
};

// Test names show the case (gtest prints the parameter with this).
void PrintTo(const PathCase& path, std::ostream* out) {
  *out << compressTypeName(path.type) << (path.encrypted ? "_aes" : "_plain");
}

class RepoPaths : public ::testing::TestWithParam<PathCase> {
 protected:
  RepoWriteSpec writeSpec() const {
    return {GetParam().type, std::nullopt, GetParam().encrypted ? aes() : crypto::CipherSpec::none()};
  }
  RepoReadSpec readSpec() const {
    return {GetParam().type, GetParam().encrypted ? aes() : crypto::CipherSpec::none()};
  }
};

// Write (push) then read (pull) gives the data back; the meters give what the manifest records.
TEST_P(RepoPaths, RoundTripWithMeters) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{300001}}) {
    const Bytes plain = mixedBytes(size, static_cast<std::uint32_t>(size));
    VectorSink sink;
    Pipeline write(sink);
    const RepoWriteMeters writeMeters = addRepoWriteFilters(write, writeSpec());
    pushAll(write, plain, 10000);
    const RepoWriteResult written = writeMeters.result();
    EXPECT_EQ(written.size, size);
    EXPECT_EQ(written.checksum, crypto::Sha1::hexOf(plain));
    EXPECT_EQ(written.repoSize, sink.bytes.size());
    EXPECT_EQ(written.repoChecksum, crypto::Sha1::hexOf(sink.bytes));
    if (GetParam().type == CompressType::None && !GetParam().encrypted) {
      EXPECT_EQ(sink.bytes, plain);
    }

    SpanSource source(sink.bytes, 777);
    Pipeline read(source);
    const RepoReadMeters readMeters = addRepoReadFilters(read, readSpec());
    EXPECT_EQ(pullAll(read, 5000), plain) << "size " << size;
    EXPECT_EQ(readMeters.result().size, size);
    EXPECT_EQ(readMeters.result().checksum, written.checksum);
    EXPECT_EQ(source.readsAfterEnd, 0u);
  }
}

// The same paths with tiny pipeline buffers, 1-byte writes and 1-byte reads.
TEST_P(RepoPaths, TinyBuffersAndChunks) {
  const Bytes plain = mixedBytes(30000, 2);
  for (std::size_t bufferSize : {std::size_t{1}, std::size_t{7}, std::size_t{16}}) {
    VectorSink sink;
    Pipeline write(sink, bufferSize);
    const RepoWriteMeters meters = addRepoWriteFilters(write, writeSpec());
    pushAll(write, plain, bufferSize == 1 ? 1 : 4099);
    if (write.bufferBytes() != 0) {
      EXPECT_LE(sink.largestWrite, bufferSize);  // a filter's buffer bounds the writes
    }
    EXPECT_EQ(meters.result().size, plain.size());

    SpanSource source(sink.bytes, 3);
    Pipeline read(source, bufferSize);
    addRepoReadFilters(read, readSpec());
    EXPECT_EQ(pullAll(read, bufferSize == 16 ? 1 : 4096), plain) << "buffer " << bufferSize;
  }
}

// Push and pull modes run the same filters: each can read what the other wrote.
TEST_P(RepoPaths, PushAndPullAreInterchangeable) {
  const Bytes plain = mixedBytes(100000, 3);
  SpanSource plainSource(plain, 5000);
  Pipeline write(plainSource, 8192);
  const RepoWriteMeters writeMeters = addRepoWriteFilters(write, writeSpec());
  const Bytes stored = pullAll(write, 3000);
  EXPECT_EQ(writeMeters.result().repoSize, stored.size());
  EXPECT_EQ(writeMeters.result().checksum, crypto::Sha1::hexOf(plain));

  VectorSink sink;
  Pipeline read(sink, 8192);
  const RepoReadMeters readMeters = addRepoReadFilters(read, readSpec());
  pushAll(read, stored, 999);
  EXPECT_EQ(sink.bytes, plain);
  EXPECT_EQ(readMeters.result().size, plain.size());
}

INSTANTIATE_TEST_SUITE_P(Types, RepoPaths,
                         ::testing::Values(PathCase{CompressType::None, false}, PathCase{CompressType::None, true},
                                           PathCase{CompressType::Gz, false}, PathCase{CompressType::Gz, true},
                                           PathCase{CompressType::Bz2, true}, PathCase{CompressType::Lz4, true},
                                           PathCase{CompressType::Zst, true}));

// What the write path stores is what `openssl enc -d` + `gunzip` read: pgBackRest's format (FORMAT.md §2, §6).
TEST(Pipeline, WritePathOutputIsCipherThenGzip) {
  const Bytes plain = mixedBytes(50000, 4);
  VectorSink sink;
  Pipeline write(sink);
  addRepoWriteFilters(write, {CompressType::Gz, 6, aes()});
  pushAll(write, plain, 4096);
  ASSERT_GE(sink.bytes.size(), 16u);
  EXPECT_EQ(asText(ByteView(sink.bytes).first(8)), "Salted__");
  const Bytes gz = crypto::decryptBuffer(crypto::Secret("pgbr-Test-Passphrase-42"), sink.bytes);
  EXPECT_EQ(gz[0], 0x1f);
  EXPECT_EQ(gz[1], 0x8b);
  EXPECT_EQ(pgbr::test::gunzip(gz), plain);
}

// pgBackRest's raw variant (bundle-raw, block incremental; FORMAT.md §2, §6): a zlib stream under a cipher
// header that is only the 8-byte salt.
TEST(Pipeline, ReadPathRawVariant) {
  const Bytes plain = mixedBytes(40000, 15);
  VectorSink sink;
  Pipeline write(sink);
  write.add(newCompressFilter(CompressType::Gz, 6, true));
  write.add(newCipherFilter(CipherFilter::Mode::Encrypt, aes()));
  pushAll(write, plain, 4096);
  ASSERT_EQ(asText(ByteView(sink.bytes).first(8)), "Salted__");
  const ByteView raw = ByteView(sink.bytes).subspan(8);

  SpanSource source(raw, 1000);
  Pipeline read(source, 512);
  RepoReadSpec spec{CompressType::Gz, aes()};
  spec.raw = true;
  const RepoReadMeters meters = addRepoReadFilters(read, spec);
  EXPECT_EQ(pullAll(read, 4096), plain);
  EXPECT_EQ(meters.result().checksum, crypto::Sha1::hexOf(plain));

  // Without `raw` the same bytes are not a valid cipher header.
  SpanSource again(raw);
  Pipeline salted(again);
  addRepoReadFilters(salted, {CompressType::Gz, aes()});
  EXPECT_THROW(pullAll(salted, 4096), crypto::CryptoError);
}

// Known-answer vector from tests/fixtures/pgbackrest-2.45/README.md.
TEST(Pipeline, DecryptsKnownVector) {
  const Bytes cipher = pgbr::test::fromHex("53616c7465645f5f00010203040506079cf3c04915d8fe1cc77e892a7c08de74");
  SpanSource source(cipher, 5);
  Pipeline read(source, 16);
  const RepoReadMeters meters = addRepoReadFilters(read, {CompressType::None, aes()});
  EXPECT_EQ(asText(pullAll(read, 3)), "pgBackRest\n");
  EXPECT_EQ(meters.result().size, 11u);
  EXPECT_EQ(meters.result().checksum, crypto::Sha1::hexOf(asBytes("pgBackRest\n")));
}

TEST(Pipeline, WrongPassphraseOrPlainInputIsACryptoError) {
  VectorSink sink;
  Pipeline write(sink);
  addRepoWriteFilters(write, {CompressType::None, std::nullopt, aes()});
  pushAll(write, mixedBytes(1000, 5), 1000);

  SpanSource source(sink.bytes);
  Pipeline read(source);
  addRepoReadFilters(read,
                     {CompressType::None, crypto::CipherSpec::aes256Cbc(crypto::Secret("not-the-passphrase"))});
  EXPECT_THROW(pullAll(read, 4096), crypto::CryptoError);

  const Bytes plain = mixedBytes(1000, 5);
  SpanSource plainSource(plain);
  Pipeline notEncrypted(plainSource);
  addRepoReadFilters(notEncrypted, {CompressType::None, aes()});
  try {
    pullAll(notEncrypted, 4096);
    FAIL();
  } catch (const crypto::CryptoError& error) {
    EXPECT_EQ(error.kind(), crypto::CryptoErrorKind::HeaderInvalid);
  }
}

TEST(Pipeline, CipherFilterNames) {
  EXPECT_EQ(newCipherFilter(CipherFilter::Mode::Encrypt, crypto::CipherSpec::none()), nullptr);
  EXPECT_EQ(newCipherFilter(CipherFilter::Mode::Encrypt, aes())->name(), "aes-256-cbc encrypt");
  EXPECT_EQ(newCipherFilter(CipherFilter::Mode::Decrypt, aes())->name(), "aes-256-cbc decrypt");
  EXPECT_THROW(CipherFilter(CipherFilter::Mode::Encrypt, crypto::CipherSpec::none()), std::invalid_argument);
}

TEST(Pipeline, AnErrorLeavesThePipelineFailed) {
  const Bytes gz = test::runFilter(newGzCompress(6), mixedBytes(10000, 6));
  VectorSink sink;
  Pipeline read(sink, 1024);
  read.add(newGzDecompress());
  read.write(ByteView(gz).first(gz.size() - 3));
  try {
    read.close();
    FAIL();
  } catch (const FormatError& error) {
    EXPECT_STREQ(error.what(), "gz decompress: unexpected end of stream (truncated file?)");
  }
  EXPECT_FALSE(read.ended());
  EXPECT_THROW(read.write(gz), std::logic_error);
  EXPECT_THROW(read.close(), std::logic_error);
}

TEST(Pipeline, PullRejectsBytesAfterTheGzipMember) {
  Bytes gz = test::runFilter(newGzCompress(6), mixedBytes(10000, 7));
  gz.push_back(0);
  for (std::size_t maxRead : {std::size_t{1}, std::size_t{gz.size()}}) {
    SpanSource source(gz, maxRead);
    Pipeline read(source, 4096);
    read.add(newGzDecompress());
    try {
      pullAll(read, 4096);
      FAIL();
    } catch (const FormatError& error) {
      EXPECT_STREQ(error.what(), "gz decompress: unexpected data after end of stream");
    }
  }
}

TEST(Pipeline, Misuse) {
  VectorSink sink;
  Pipeline push(sink);
  push.write(asBytes("x"));
  EXPECT_THROW(push.add(newGzCompress(6)), std::logic_error);
  Bytes buffer(4);
  EXPECT_THROW(push.read(buffer), std::logic_error);
  push.close();
  EXPECT_THROW(push.write(asBytes("x")), std::logic_error);
  EXPECT_THROW(push.close(), std::logic_error);

  SpanSource source({});
  Pipeline pull(source);
  EXPECT_THROW(pull.write(asBytes("x")), std::logic_error);
  EXPECT_THROW(pull.read({}), std::invalid_argument);
  EXPECT_THROW(Pipeline(sink, 0), std::invalid_argument);
}

// A filter that breaks the progress contract fails loudly instead of hanging the pipeline.
TEST(Pipeline, StalledFilterIsALogicError) {
  class Stuck final : public Filter {
   public:
    Step process(ByteView, MutableByteView) override { return {0, 0}; }
    std::size_t finish(MutableByteView) override { return 0; }
    bool done() const override { return false; }
    std::string_view name() const override { return "stuck"; }
  };
  VectorSink sink;
  Pipeline push(sink);
  push.add(std::make_unique<Stuck>());
  EXPECT_THROW(push.write(asBytes("x")), std::logic_error);
  const Bytes data(10, 1);
  SpanSource source(data);
  Pipeline pull(source);
  pull.add(std::make_unique<Stuck>());
  EXPECT_THROW(pullAll(pull, 10), std::logic_error);
}

// 256 MiB of zeros compressed ~1000x by zlib (as a hostile or merely very sparse file would be).
Bytes zerosBomb(std::size_t size) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, 9, Z_DEFLATED, 15 + 16, 9, Z_RLE), Z_OK);
  const Bytes zeros(1024 * 1024, 0);
  Bytes out(size / 1000 + 65536);
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  for (std::size_t done = 0; done < size; done += zeros.size()) {
    stream.next_in = const_cast<Bytef*>(zeros.data());
    stream.avail_in = static_cast<uInt>(zeros.size());
    EXPECT_EQ(deflate(&stream, done + zeros.size() < size ? Z_NO_FLUSH : Z_FINISH),
              done + zeros.size() < size ? Z_OK : Z_STREAM_END);
  }
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

long maxRssKiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(Pipeline, GzipBombInflatesInBoundedMemory) {
  constexpr std::size_t kPlainSize = std::size_t{256} * 1024 * 1024;
  constexpr std::size_t kBufferSize = 64 * 1024;
  const Bytes bomb = zerosBomb(kPlainSize);
  EXPECT_GT(kPlainSize / bomb.size(), 1000u);
  const long rssBefore = maxRssKiB();

  CountingSink sink;
  Pipeline push(sink, kBufferSize);
  push.add(newGzDecompress());
  SizeMeter& pushSize = push.add(std::make_unique<SizeMeter>());
  EXPECT_EQ(push.bufferBytes(), kBufferSize);
  pushAll(push, bomb, kBufferSize);
  EXPECT_EQ(sink.size, kPlainSize);
  EXPECT_EQ(pushSize.size(), kPlainSize);
  EXPECT_LE(sink.largestWrite, kBufferSize);
  EXPECT_GE(sink.writes, kPlainSize / kBufferSize);
  EXPECT_EQ(push.bufferBytes(), kBufferSize);

  SpanSource source(bomb, kBufferSize);
  Pipeline pull(source, kBufferSize);
  pull.add(newGzDecompress());
  SizeMeter& pullSize = pull.add(std::make_unique<SizeMeter>());
  Bytes buffer(kBufferSize);
  std::uint64_t total = 0;
  for (std::size_t size; (size = pull.read(buffer)) != 0;) {
    ASSERT_LE(size, buffer.size());
    total += size;
  }
  EXPECT_EQ(total, kPlainSize);
  EXPECT_EQ(pullSize.size(), kPlainSize);
  EXPECT_EQ(pull.bufferBytes(), kBufferSize);

  // Neither mode held the plain bytes: the peak resident size grew by far less than 256 MiB.
  RecordProperty("peak_rss_growth_kib", static_cast<int>(maxRssKiB() - rssBefore));
  EXPECT_LT(maxRssKiB() - rssBefore, 32 * 1024) << "KiB";
}

TEST(Pipeline, ZstAndBz2BombsInflateInBoundedMemory) {
  constexpr std::size_t kPlainSize = std::size_t{64} * 1024 * 1024;
  const Bytes zeros(1024 * 1024, 0);
  for (const CompressType type : {CompressType::Zst, CompressType::Bz2}) {
    VectorSink packed;
    Pipeline write(packed);
    write.add(newCompressFilter(type, compressLevelDefault(type)));
    for (std::size_t done = 0; done < kPlainSize; done += zeros.size()) write.write(zeros);
    write.close();
    EXPECT_GT(kPlainSize / packed.bytes.size(), 1000u) << compressTypeName(type);

    const long rssBefore = maxRssKiB();
    CountingSink sink;
    Pipeline read(sink, 32 * 1024);
    read.add(newDecompressFilter(type));
    pushAll(read, packed.bytes, 4096);
    EXPECT_EQ(sink.size, kPlainSize);
    EXPECT_LE(sink.largestWrite, 32u * 1024u);
    EXPECT_LT(maxRssKiB() - rssBefore, 32 * 1024) << compressTypeName(type);
  }
}

}  // namespace
}  // namespace pgbr::backup
