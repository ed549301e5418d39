#include "crypto/sha1.h"

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace pgbr::crypto {
namespace {

TEST(Sha1, KnownAnswers) {
  EXPECT_EQ(Sha1::hexOf(asBytes("")), Sha1::kEmptyHex);
  EXPECT_EQ(Sha1::hexOf(asBytes("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1::hexOf(asBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(Sha1, StreamingEqualsOneShot) {
  const Bytes data = test::patternBytes(100000, 7);
  Sha1 streaming;
  for (std::size_t i = 0; i < data.size(); i += 977)
    streaming.update(ByteView(data).subspan(i, std::min<std::size_t>(977, data.size() - i)));
  EXPECT_EQ(streaming.finishHex(), Sha1::hexOf(data));
}

// The WAL vector's name carries the SHA-1 of its 16 MiB plaintext (FORMAT.md §1).
TEST(Sha1, MatchesWalSegmentName) {
  const Bytes wal = test::readFile(test::vectorsPath(
      "plaintext/repo-enc/archive/demo/15-1/0000000100000000/"
      "000000010000000000000003-a9857f3e4a10e6faa1dc1476950a83d86b370060"));
  ASSERT_EQ(wal.size(), 16u * 1024 * 1024);
  EXPECT_EQ(Sha1::hexOf(wal), "a9857f3e4a10e6faa1dc1476950a83d86b370060");
}

}  // namespace
}  // namespace pgbr::crypto
