#include "backup/compress_filter.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "backup/backup_error.h"
#include "unit/backup/filter_test_util.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

using test::mixedBytes;
using test::runFilter;

struct Codec {
  std::string name;
  std::function<std::unique_ptr<Filter>()> compress;
  std::function<std::unique_ptr<Filter>()> decompress;
};

std::vector<Codec> allCodecs() {
  return {
      {"gz0", [] { return newGzCompress(0); }, [] { return newGzDecompress(); }},
      {"gz1", [] { return newGzCompress(1); }, [] { return newGzDecompress(); }},
      {"gz4", [] { return newGzCompress(4); }, [] { return newGzDecompress(); }},
      {"gz6", [] { return newGzCompress(6); }, [] { return newGzDecompress(); }},
      {"zlib6", [] { return newZlibCompress(6); }, [] { return newZlibDecompress(); }},
      {"bz2_9", [] { return newBz2Compress(9); }, [] { return newBz2Decompress(); }},
      {"lz4_1", [] { return newLz4Compress(1); }, [] { return newLz4Decompress(); }},
      {"lz4_raw", [] { return newLz4Compress(1, false); }, [] { return newLz4Decompress(); }},
      {"lz4_9", [] { return newLz4Compress(9); }, [] { return newLz4Decompress(); }},
      {"zst3", [] { return newZstCompress(3); }, [] { return newZstDecompress(); }},
      {"zst_neg7", [] { return newZstCompress(-7); }, [] { return newZstDecompress(); }},
  };
}

// Test names show the codec (gtest prints the parameter with this).
void PrintTo(const Codec& codec, std::ostream* out) { *out << codec.name; }

class CompressRoundTrip : public ::testing::TestWithParam<Codec> {};

constexpr std::size_t kSizes[] = {0, 1, 15, 16, 17, 4095, 4096, 65537, 1024 * 1024 + 3};

TEST_P(CompressRoundTrip, EverySizeWithLargeBuffers) {
  for (std::size_t size : kSizes) {
    const Bytes plain = mixedBytes(size, static_cast<std::uint32_t>(size));
    const Bytes compressed = runFilter(GetParam().compress(), plain);
    EXPECT_EQ(runFilter(GetParam().decompress(), compressed), plain) << "size " << size;
  }
}

TEST_P(CompressRoundTrip, IncompressibleData) {
  const Bytes plain = pgbr::test::patternBytes(300000, 11);
  const Bytes compressed = runFilter(GetParam().compress(), plain, 1000, 777);
  EXPECT_EQ(runFilter(GetParam().decompress(), compressed, 999, 70000), plain);
}

TEST_P(CompressRoundTrip, OneByteInputChunks) {
  for (std::size_t size : kSizes) {
    if (size > 65537) continue;  // the 1 MiB case runs with odd chunk sizes below
    const Bytes plain = mixedBytes(size, static_cast<std::uint32_t>(size) + 1);
    const Bytes compressed = runFilter(GetParam().compress(), plain, 1, 65536);
    EXPECT_EQ(runFilter(GetParam().decompress(), compressed, 1, 65536), plain) << "size " << size;
  }
}

TEST_P(CompressRoundTrip, OneByteOutputBuffers) {
  for (std::size_t size : kSizes) {
    if (size > 65537) continue;
    const Bytes plain = mixedBytes(size, static_cast<std::uint32_t>(size) + 2);
    const Bytes compressed = runFilter(GetParam().compress(), plain, 65536, 1);
    EXPECT_EQ(runFilter(GetParam().decompress(), compressed, 65536, 1), plain) << "size " << size;
  }
}

TEST_P(CompressRoundTrip, OneByteInAndOut) {
  const Bytes plain = mixedBytes(20000, 3);
  const Bytes compressed = runFilter(GetParam().compress(), plain, 1, 1);
  EXPECT_EQ(runFilter(GetParam().decompress(), compressed, 1, 1), plain);
}

TEST_P(CompressRoundTrip, LargeInputWithOddChunks) {
  const Bytes plain = mixedBytes(1024 * 1024 + 3, 4);
  const Bytes compressed = runFilter(GetParam().compress(), plain, 1, 3);
  EXPECT_EQ(runFilter(GetParam().decompress(), compressed, 7, 1), plain);
}

TEST_P(CompressRoundTrip, EmptyInputIsAnError) {
  const std::unique_ptr<Filter> filter = GetParam().decompress();
  EXPECT_THROW(runFilter(*filter, {}, 1, 1), FormatError);
}

TEST_P(CompressRoundTrip, TruncationIsAnError) {
  const Bytes compressed = runFilter(GetParam().compress(), mixedBytes(10000, 5));
  for (std::size_t cut : {std::size_t{1}, std::size_t{4}, compressed.size() / 2, compressed.size() - 1}) {
    const std::unique_ptr<Filter> filter = GetParam().decompress();
    try {
      runFilter(*filter, ByteView(compressed).first(compressed.size() - cut), 4096, 4096);
      ADD_FAILURE() << "no error with " << cut << " bytes cut";
    } catch (const FormatError& error) {
      EXPECT_TRUE(std::string(error.what()).starts_with(std::string(filter->name()) + ": ")) << error.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressRoundTrip, ::testing::ValuesIn(allCodecs()));

TEST(CompressFilter, NamesForErrorMessages) {
  EXPECT_EQ(newGzCompress(6)->name(), "gz compress");
  EXPECT_EQ(newGzDecompress()->name(), "gz decompress");
  EXPECT_EQ(newZlibCompress(6)->name(), "zlib compress");
  EXPECT_EQ(newZlibDecompress()->name(), "zlib decompress");
  EXPECT_EQ(newBz2Compress(9)->name(), "bz2 compress");
  EXPECT_EQ(newBz2Decompress()->name(), "bz2 decompress");
  EXPECT_EQ(newLz4Compress(1)->name(), "lz4 compress");
  EXPECT_EQ(newLz4Decompress()->name(), "lz4 decompress");
  EXPECT_EQ(newZstCompress(3)->name(), "zst compress");
  EXPECT_EQ(newZstDecompress()->name(), "zst decompress");
}

TEST(CompressFilter, ByTypeAndNone) {
  EXPECT_EQ(newCompressFilter(CompressType::None, 0), nullptr);
  EXPECT_EQ(newCompressFilter(CompressType::None, 6), nullptr);  // compress-level is ignored without compression
  EXPECT_EQ(newDecompressFilter(CompressType::None), nullptr);
  EXPECT_EQ(newCompressFilter(CompressType::Gz, 6)->name(), "gz compress");
  EXPECT_EQ(newCompressFilter(CompressType::Gz, 6, true)->name(), "zlib compress");
  EXPECT_EQ(newDecompressFilter(CompressType::Gz, true)->name(), "zlib decompress");
  EXPECT_EQ(newCompressFilter(CompressType::Bz2, 9)->name(), "bz2 compress");
  EXPECT_EQ(newDecompressFilter(CompressType::Lz4)->name(), "lz4 decompress");
  EXPECT_EQ(newDecompressFilter(CompressType::Zst)->name(), "zst decompress");
  EXPECT_THROW(newCompressFilter(CompressType::Gz, 10), std::invalid_argument);
  EXPECT_THROW(newCompressFilter(CompressType::Bz2, 0), std::invalid_argument);
  EXPECT_THROW(newCompressFilter(CompressType::Zst, 23), std::invalid_argument);
  EXPECT_THROW(newCompressFilter(CompressType::Lz4, -6), std::invalid_argument);
}

TEST(CompressFilter, GzLevelMapping) {
  const int expected[] = {0, 1, 2, 2, 2, 2, 3, 3, 3, 3};
  for (int level = 0; level <= 9; level++) EXPECT_EQ(gzIsalLevel(level), expected[level]) << level;
  EXPECT_THROW(gzIsalLevel(-1), std::invalid_argument);
}

// Inflates with zlib and checks the stream is exactly one gzip member (nothing after its trailer).
Bytes zlibGunzipOneMember(ByteView gz) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  Bytes out;
  Bytes buffer(65536);
  stream.next_in = const_cast<Bytef*>(gz.data());
  stream.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    stream.next_out = buffer.data();
    stream.avail_out = static_cast<uInt>(buffer.size());
    rc = inflate(&stream, Z_NO_FLUSH);
    out.insert(out.end(), buffer.begin(), buffer.end() - stream.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(stream.avail_in, 0u) << "bytes after the first gzip member";
  inflateEnd(&stream);
  return out;
}

// The reference command-line tools (Debian packages gzip, bzip2, lz4, zstd); tests that need them skip
// with this message when one is missing.
std::string missingReferenceTools() {
  std::string missing;
  for (const char* tool : {"gzip", "bzip2", "lz4", "zstd"})
    if (pgbr::test::runCommand(std::string("command -v ") + tool).exitCode != 0) missing += std::string(" ") + tool;
  return missing;
}

// FORMAT.md §6: pgBackRest's gzip header is 1f 8b 08 00 00000000 <xfl> 03, xfl as zlib sets it.
TEST(GzCompress, HeaderMatchesPgBackRest) {
  const Bytes plain = mixedBytes(5000, 6);
  const std::pair<int, std::uint8_t> levels[] = {{0, 4}, {1, 4}, {2, 0}, {6, 0}, {8, 0}, {9, 2}};
  for (const auto& [level, xfl] : levels) {
    const Bytes gz = runFilter(newGzCompress(level), plain);
    ASSERT_GE(gz.size(), 18u);
    const Bytes expected = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, xfl, 0x03};
    EXPECT_EQ(Bytes(gz.begin(), gz.begin() + 10), expected) << "level " << level;
    EXPECT_EQ(zlibGunzipOneMember(gz), plain) << "level " << level;
  }
}

// FORMAT.md §6: empty input -> the 20-byte gzip pgBackRest writes.
TEST(GzCompress, EmptyInputIsPgBackRestsEmptyGzip) {
  const Bytes gz = runFilter(newGzCompress(6), {});
  EXPECT_EQ(pgbr::test::toHex(gz), "1f8b0800000000000003" "0300" "0000000000000000");
  EXPECT_TRUE(zlibGunzipOneMember(gz).empty());
  EXPECT_TRUE(runFilter(newGzDecompress(), gz).empty());
}

TEST(GzCompress, SystemGunzipAcceptsOutput) {
  pgbr::test::TempDir dir;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{70000}}) {
    for (int level : {0, 1, 6, 9}) {
      const Bytes plain = mixedBytes(size, 7);
      pgbr::test::writeFile(dir / "file.gz", runFilter(newGzCompress(level), plain, 1000, 333));
      pgbr::test::CommandResult result = pgbr::test::runCommand("gzip -t '" + (dir / "file.gz").string() + "'");
      EXPECT_EQ(result.exitCode, 0) << result.output;
      result = pgbr::test::runCommand("gzip -dc '" + (dir / "file.gz").string() + "' > '" + (dir / "out").string() + "'");
      ASSERT_EQ(result.exitCode, 0) << result.output;
      EXPECT_EQ(pgbr::test::readFile(dir / "out"), plain) << "size " << size << " level " << level;
    }
  }
}

// The reference command-line tools read what our compressors write.
TEST(CompressFilter, ReferenceToolsAcceptOutput) {
  pgbr::test::TempDir dir;
  const Bytes plain = mixedBytes(200000, 8);
  const struct {
    const char* tool;
    std::unique_ptr<Filter> filter;
  } cases[] = {{"bzip2", newBz2Compress(9)}, {"lz4", newLz4Compress(1)}, {"lz4", newLz4Compress(1, false)},
               {"zstd", newZstCompress(3)}};
  if (const std::string missing = missingReferenceTools(); !missing.empty())
    GTEST_SKIP() << "not installed:" << missing << " (apt-get install gzip bzip2 lz4 zstd)";
  for (const auto& [tool, filter] : cases) {
    pgbr::test::writeFile(dir / "in", runFilter(*filter, plain, 4096, 4096));
    const auto result = pgbr::test::runCommand(std::string(tool) + " -dc < '" + (dir / "in").string() + "' > '" +
                                               (dir / "out").string() + "'");
    ASSERT_EQ(result.exitCode, 0) << tool << ": " << result.output;
    EXPECT_EQ(pgbr::test::readFile(dir / "out"), plain) << tool;
  }
}

// And our decompressors read what the reference tools (and so pgBackRest's libraries) write.
TEST(CompressFilter, ReadsReferenceToolOutput) {
  if (const std::string missing = missingReferenceTools(); !missing.empty())
    GTEST_SKIP() << "not installed:" << missing << " (apt-get install gzip bzip2 lz4 zstd)";
  pgbr::test::TempDir dir;
  const Bytes plain = mixedBytes(200000, 9);
  pgbr::test::writeFile(dir / "plain", plain);
  const struct {
    const char* command;
    std::unique_ptr<Filter> filter;
  } cases[] = {{"gzip -6 -nc", newGzDecompress()}, {"gzip -1 -c", newGzDecompress()},
               {"bzip2 -9 -c", newBz2Decompress()}, {"lz4 -1 -c --content-size", newLz4Decompress()},
               {"lz4 -9 -c -BD", newLz4Decompress()}, {"zstd -3 -c -q", newZstDecompress()},
               {"zstd -19 -c -q --check", newZstDecompress()}};
  for (const auto& [command, filter] : cases) {
    const auto result = pgbr::test::runCommand(std::string(command) + " < '" + (dir / "plain").string() + "' > '" +
                                               (dir / "packed").string() + "'");
    ASSERT_EQ(result.exitCode, 0) << command << ": " << result.output;
    EXPECT_EQ(runFilter(*filter, pgbr::test::readFile(dir / "packed"), 5000, 3000), plain) << command;
  }
}

TEST(ZlibCompress, WritesRfc1950Header) {
  const Bytes out = runFilter(newZlibCompress(6), mixedBytes(1000, 10));
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[0], 0x78);
  EXPECT_EQ(out[1], 0x9c);
  // zlib's own one-shot inflate agrees.
  Bytes plain(1000);
  uLongf size = static_cast<uLongf>(plain.size());
  ASSERT_EQ(uncompress(plain.data(), &size, out.data(), static_cast<uLong>(out.size())), Z_OK);
  EXPECT_EQ(plain, mixedBytes(1000, 10));
}

TEST(GzDecompress, StopsAtFirstMemberAndRejectsTrailingBytes) {
  const Bytes one = runFilter(newGzCompress(6), mixedBytes(3000, 11));
  Bytes two = one;
  two.insert(two.end(), one.begin(), one.end());
  try {
    runFilter(newGzDecompress(), two);
    FAIL() << "two members accepted";
  } catch (const FormatError& error) {
    EXPECT_STREQ(error.what(), "gz decompress: unexpected data after end of stream");
  }
  Bytes garbage = one;
  garbage.push_back(0);
  EXPECT_THROW(runFilter(newGzDecompress(), garbage, 1, 1), FormatError);
  // done() as soon as the member has ended, before finish().
  const std::unique_ptr<Filter> filter = newGzDecompress();
  Bytes out(10000);
  const Filter::Step step = filter->process(one, out);
  EXPECT_EQ(step.consumed, one.size());
  EXPECT_EQ(step.produced, 3000u);
  EXPECT_TRUE(filter->done());
}

TEST(GzDecompress, ErrorMessages) {
  const Bytes gz = runFilter(newGzCompress(6), mixedBytes(3000, 12));
  auto messageOf = [](ByteView input) -> std::string {
    try {
      runFilter(newGzDecompress(), input);
    } catch (const FormatError& error) {
      return error.what();
    }
    return "no error";
  };
  EXPECT_EQ(messageOf(ByteView(gz).first(gz.size() - 4)), "gz decompress: unexpected end of stream (truncated file?)");
  EXPECT_EQ(messageOf({}), "gz decompress: unexpected end of stream (truncated file?)");
  EXPECT_EQ(messageOf(asBytes("plain text, not gzip at all")), "gz decompress: invalid gzip header (not gzip data?)");
  Bytes badCrc = gz;
  badCrc[badCrc.size() - 6] ^= 0x01;
  EXPECT_EQ(messageOf(badCrc), "gz decompress: checksum or length mismatch in gzip trailer (corrupt data)");
  Bytes badLength = gz;
  badLength[badLength.size() - 1] ^= 0x01;
  EXPECT_EQ(messageOf(badLength), "gz decompress: checksum or length mismatch in gzip trailer (corrupt data)");
  const Bytes zlibStream = runFilter(newZlibCompress(6), mixedBytes(100, 1));
  EXPECT_EQ(messageOf(zlibStream), "gz decompress: invalid gzip header (not gzip data?)");
}

TEST(OtherDecompressors, ErrorMessagesNameTheFilter) {
  auto messageOf = [](std::unique_ptr<Filter> filter, ByteView input) -> std::string {
    try {
      runFilter(*filter, input, 65536, 65536);
    } catch (const FormatError& error) {
      return error.what();
    }
    return "no error";
  };
  const ByteView text = asBytes("definitely not compressed data, just some text");
  EXPECT_EQ(messageOf(newZlibDecompress(), text), "zlib decompress: invalid data (incorrect header check)");
  EXPECT_EQ(messageOf(newBz2Decompress(), text), "bz2 decompress: invalid bzip2 header (not bzip2 data?)");
  EXPECT_EQ(messageOf(newLz4Decompress(), text), "lz4 decompress: invalid data (ERROR_frameType_unknown)");
  EXPECT_EQ(messageOf(newZstDecompress(), text), "zst decompress: invalid data (Unknown frame descriptor)");
  for (auto make : {newZlibDecompress, newBz2Decompress, newLz4Decompress, newZstDecompress}) {
    const std::unique_ptr<Filter> filter = make();
    EXPECT_EQ(messageOf(make(), {}), std::string(filter->name()) + ": unexpected end of stream (truncated file?)");
  }
  const Bytes zlibStream = runFilter(newZlibCompress(6), mixedBytes(100, 1));
  Bytes trailing = zlibStream;
  trailing.push_back('x');
  EXPECT_EQ(messageOf(newZlibDecompress(), trailing), "zlib decompress: unexpected data after end of stream");
  const Bytes bz2Stream = runFilter(newBz2Compress(1), mixedBytes(100, 1));
  trailing = bz2Stream;
  trailing.push_back('x');
  EXPECT_EQ(messageOf(newBz2Decompress(), trailing), "bz2 decompress: unexpected data after end of stream");
}

// lz4 and zst read concatenated frames, as pgBackRest does; trailing garbage after a frame is an error.
TEST(OtherDecompressors, MultipleFrames) {
  const Bytes a = mixedBytes(5000, 13);
  const Bytes b = mixedBytes(7000, 14);
  Bytes expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  using Factory = std::function<std::unique_ptr<Filter>()>;
  const std::pair<Factory, Factory> codecs[] = {{[] { return newLz4Compress(1); }, newLz4Decompress},
                                                {[] { return newZstCompress(1); }, newZstDecompress}};
  for (const auto& [compress, decompress] : codecs) {
    Bytes frames = runFilter(compress(), a);
    const Bytes second = runFilter(compress(), b);
    frames.insert(frames.end(), second.begin(), second.end());
    EXPECT_EQ(runFilter(decompress(), frames, 3, 5), expected);
    frames.push_back(0x42);
    EXPECT_THROW(runFilter(decompress(), frames), FormatError);
  }
}

}  // namespace
}  // namespace pgbr::backup
