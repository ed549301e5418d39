// Robustness of every decompressor on hostile input: thousands of truncated, bit-flipped and random streams
// must end in FormatError (or, for a flip the format cannot detect, in plain success), never in a crash, a
// hang, runaway output or another exception type. Deterministic seeds; the whole file runs in seconds.
#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "backup/backup_error.h"
#include "backup/compress_filter.h"
#include "unit/backup/filter_test_util.h"

namespace pgbr::backup {
namespace {

struct FuzzCodec {
  std::string name;
  std::function<std::unique_ptr<Filter>()> compress;
  std::function<std::unique_ptr<Filter>()> decompress;
  Bytes magic;  // the format's first bytes, to get random input past the header check
};

std::vector<FuzzCodec> fuzzCodecs() {
  return {
      {"gz", [] { return newGzCompress(6); }, [] { return newGzDecompress(); }, {0x1f, 0x8b, 0x08, 0x00}},
      {"zlib", [] { return newZlibCompress(6); }, [] { return newZlibDecompress(); }, {0x78, 0x9c}},
      {"bz2", [] { return newBz2Compress(1); }, [] { return newBz2Decompress(); }, {'B', 'Z', 'h', '1'}},
      {"lz4", [] { return newLz4Compress(1); }, [] { return newLz4Decompress(); }, {0x04, 0x22, 0x4d, 0x18}},
      {"zst", [] { return newZstCompress(3); }, [] { return newZstDecompress(); }, {0x28, 0xb5, 0x2f, 0xfd}},
  };
}

// Test names show the codec (gtest prints the parameter with this).
void PrintTo(const FuzzCodec& codec, std::ostream* out) { *out << codec.name; }

enum class Outcome { Success, FormatError };

// Decompresses through a small-buffer push pipeline; anything but success or FormatError fails the test.
Outcome decompress(const FuzzCodec& codec, ByteView input, std::size_t writeChunk, std::size_t bufferSize) {
  test::VectorSink sink(64 * 1024 * 1024);  // a corrupt stream must not produce unbounded output
  Pipeline pipeline(sink, bufferSize);
  pipeline.add(codec.decompress());
  try {
    test::pushAll(pipeline, input, writeChunk);
    return Outcome::Success;
  } catch (const FormatError& error) {
    const std::string message = error.what();
    EXPECT_TRUE(message.starts_with(codec.name + " decompress: ")) << message;
    return Outcome::FormatError;
  }
}

class DecompressFuzz : public ::testing::TestWithParam<FuzzCodec> {
 protected:
  Bytes sample() const { return test::runFilter(GetParam().compress(), test::mixedBytes(20000, 99)); }
};

TEST_P(DecompressFuzz, EveryTruncationIsAnError) {
  const Bytes stream = sample();
  ASSERT_EQ(decompress(GetParam(), stream, 4096, 4096), Outcome::Success);
  // Every prefix up to 1000 bytes short of the end, then a spread over the rest: ~1500 cases.
  const std::size_t step = std::max<std::size_t>(1, stream.size() / 500);
  for (std::size_t length = 0; length < stream.size(); length += length + 1000 >= stream.size() ? 1 : step) {
    const bool tiny = length % 7 == 0;
    EXPECT_EQ(decompress(GetParam(), ByteView(stream).first(length), tiny ? 1 : 1000, tiny ? 1 : 4096),
              Outcome::FormatError)
        << "prefix of " << length << " of " << stream.size() << " bytes accepted";
  }
}

TEST_P(DecompressFuzz, BitFlipsNeverCrash) {
  const Bytes stream = sample();
  std::mt19937 engine(1);
  int errors = 0;
  constexpr int kCases = 2000;
  for (int i = 0; i < kCases; i++) {
    Bytes corrupt = stream;
    const int flips = 1 + static_cast<int>(engine() % 3);
    for (int f = 0; f < flips; f++)
      corrupt[engine() % corrupt.size()] ^= static_cast<std::uint8_t>(1u << (engine() % 8));
    const bool tiny = i % 10 == 0;
    if (decompress(GetParam(), corrupt, tiny ? 1 : 777, tiny ? 3 : 4096) == Outcome::FormatError) errors++;
  }
  // Formats with checksums catch nearly every flip; zstd frames as pgBackRest writes them have none, so only
  // flips that break the structure are caught.
  EXPECT_GT(errors, GetParam().name == "zst" ? kCases / 10 : kCases * 3 / 4);
}

TEST_P(DecompressFuzz, RandomInputIsAnError) {
  std::mt19937 engine(2);
  for (int i = 0; i < 1000; i++) {
    Bytes input(engine() % 4096);
    for (auto& byte : input) byte = static_cast<std::uint8_t>(engine());
    EXPECT_EQ(decompress(GetParam(), input, 512, 4096), Outcome::FormatError) << "case " << i;
  }
  // Past the magic: random headers and blocks. Rarely valid, never a crash.
  for (int i = 0; i < 1000; i++) {
    Bytes input = GetParam().magic;
    for (std::uint32_t n = engine() % 4096; n > 0; n--) input.push_back(static_cast<std::uint8_t>(engine()));
    decompress(GetParam(), input, i % 5 == 0 ? 1 : 512, 4096);
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, DecompressFuzz, ::testing::ValuesIn(fuzzCodecs()));

}  // namespace
}  // namespace pgbr::backup
