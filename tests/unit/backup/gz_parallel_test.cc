// gzipParallel: one gzip member that zlib (what pgBackRest reads gz with) inflates to the input, for every level
// mapping, part count and size around the part boundaries; the header is the one the streaming compressor writes.
#include "backup/gz_parallel.h"

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

Bytes streamingGzip(ByteView data, int level) {
  Bytes out;
  BytesSink sink(out);
  Pipeline pipeline(sink);
  pipeline.add(newCompressFilter(CompressType::Gz, level));
  pipeline.write(data);
  pipeline.close();
  return out;
}

TEST(GzParallel, InflatesToTheInputAsOneMember) {
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{100000}, (std::size_t{3} << 20) + 12345}) {
    const Bytes data = walLike(size, static_cast<std::uint32_t>(size));
    for (const int level : {0, 1, 6})
      for (const unsigned threads : {1u, 2u, 3u}) {
        SCOPED_TRACE("size " + std::to_string(size) + " level " + std::to_string(level) + " threads " +
                     std::to_string(threads));
        const Bytes gz = gzipParallel(data, level, threads);
        EXPECT_EQ(test::gunzip(gz), data);  // zlib rejects trailing bytes and checks CRC-32 and ISIZE
      }
  }
}

TEST(GzParallel, SameHeaderAndSimilarSizeAsTheStreamingCompressor) {
  const Bytes data = walLike(4 << 20, 7);
  for (const int level : {1, 6, 9}) {
    const Bytes parallel = gzipParallel(data, level, 2);
    const Bytes streaming = streamingGzip(data, level);
    EXPECT_TRUE(std::equal(streaming.begin(), streaming.begin() + 10, parallel.begin())) << level;
    // Two parts lose only the matches across the cut that the dictionary does not restore.
    EXPECT_LT(parallel.size(), streaming.size() + streaming.size() / 50 + 1024) << level;
  }
}

TEST(GzParallel, RandomDataStillFits) {
  const Bytes data = test::patternBytes(3 << 20, 99);  // incompressible: stored blocks make it a little larger
  EXPECT_EQ(test::gunzip(gzipParallel(data, 6, 2)), data);
}

TEST(GzParallel, RefusesLevelsOutOfRange) { EXPECT_THROW(gzipParallel(Bytes(10), 10, 2), std::invalid_argument); }

}  // namespace
}  // namespace pgbr::backup
