// GzParts: one gzip member that zlib (what pgBackRest reads gz with) and our own decompressor inflate to the input,
// for every level mapping, part size and input size around the part boundaries, fed all at once or piece by piece;
// the header is the one the streaming compressor writes.
#include "backup/gz_parts.h"

#include <gtest/gtest.h>

#include "backup/compress_filter.h"
#include "backup/pipeline.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

// WAL-like input: compressible records with random parts, and long zero runs.
Bytes walLike(std::size_t size, std::uint32_t seed) {
  Bytes data = test::patternBytes(size, seed);
  for (std::size_t i = 0; i < size; ++i)
    if ((i / 4096) % 3 == 0) data[i] = static_cast<std::uint8_t>(i % 7);
    else if ((i / 4096) % 3 == 1) data[i] = 0;
  return data;
}

Bytes throughFilter(ByteView data, std::unique_ptr<Filter> filter) {
  Bytes out;
  BytesSink sink(out);
  Pipeline pipeline(sink);
  pipeline.add(std::move(filter));
  pipeline.write(data);
  pipeline.close();
  return out;
}

Bytes partsGzip(ByteView data, int level, std::size_t partSize, std::size_t piece) {
  GzParts parts(level, partSize);
  for (std::size_t received = 0; piece != 0 && received < data.size();) {
    received = std::min(data.size(), received + piece);
    parts.received(data.first(received));
  }
  return parts.finish(data);
}

TEST(GzParts, InflatesToTheInputAsOneMember) {
  constexpr std::size_t kPart = 64 * 1024;
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, kPart - 1, kPart, kPart + 1, 5 * kPart + 12345}) {
    const Bytes data = walLike(size, static_cast<std::uint32_t>(size));
    for (const int level : {0, 1, 3, 6})
      for (const std::size_t piece : {std::size_t{0}, std::size_t{4096}, std::size_t{100000}}) {
        SCOPED_TRACE("size " + std::to_string(size) + " level " + std::to_string(level) + " piece " +
                     std::to_string(piece));
        const Bytes gz = partsGzip(data, level, kPart, piece);
        EXPECT_EQ(test::gunzip(gz), data);  // zlib rejects trailing bytes and checks CRC-32 and ISIZE
        EXPECT_EQ(throughFilter(gz, newGzDecompress()), data);
      }
  }
}

TEST(GzParts, SameHeaderAndSimilarSizeAsTheStreamingCompressor) {
  const Bytes data = walLike(16 << 20, 7);
  for (const int level : {1, 6, 9}) {
    const Bytes parts = partsGzip(data, level, GzParts::kDefaultPartSize, 1 << 20);
    const Bytes streaming = throughFilter(data, newCompressFilter(CompressType::Gz, level));
    EXPECT_TRUE(std::equal(streaming.begin(), streaming.begin() + 10, parts.begin())) << level;
    // Parts lose only the matches across a cut that the dictionary does not restore.
    EXPECT_LT(parts.size(), streaming.size() + streaming.size() / 50 + 1024) << level;
  }
}

TEST(GzParts, RandomDataStillFits) {
  const Bytes data = test::patternBytes(3 << 20, 99);  // incompressible: stored blocks make it a little larger
  EXPECT_EQ(test::gunzip(partsGzip(data, 6, 1 << 20, 300000)), data);
}

TEST(GzParts, DestroyedUnfinishedWaitsForItsParts) {
  const Bytes data = walLike(4 << 20, 3);
  { GzParts parts(6, 64 * 1024); parts.received(data); }  // must not leave threads reading freed memory
  SUCCEED();
}

TEST(GzParts, RefusesLevelsOutOfRange) { EXPECT_THROW(GzParts(10), std::invalid_argument); }

}  // namespace
}  // namespace pgbr::backup
