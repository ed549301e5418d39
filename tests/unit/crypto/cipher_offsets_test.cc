#include "crypto/cipher_offsets.h"

#include <gtest/gtest.h>

#include <random>

#include "crypto/cipher_block_encryptor.h"
#include "unit/test_support.h"

namespace pgbr::crypto::offsets {
namespace {

TEST(CipherOffsets, SizesMatchRealEncryption) {
  const Secret pass("offsets");
  for (std::uint64_t plain = 0; plain <= 600; plain++) {
    const std::uint64_t cipher = encryptBuffer(pass, test::patternBytes(plain, 1)).size();
    ASSERT_EQ(cipherSizeForPlain(plain), cipher) << plain;
    ASSERT_TRUE(cipherSizeValid(cipher));
    ASSERT_GE(plain, cipher - 32);
    ASSERT_LE(plain, cipher - 17);
  }
}

TEST(CipherOffsets, ValidSizes) {
  EXPECT_FALSE(cipherSizeValid(0));
  EXPECT_FALSE(cipherSizeValid(16));
  EXPECT_FALSE(cipherSizeValid(31));
  EXPECT_TRUE(cipherSizeValid(32));
  EXPECT_FALSE(cipherSizeValid(33));
  EXPECT_TRUE(cipherSizeValid(16 + 16 * 1000));
  EXPECT_EQ(cipherSizeForPlain(16 * 1024 * 1024), 16777216u + 32u);  // a 16 MiB WAL with compress-type none
}

// A table of hand-checked spans.
TEST(CipherOffsets, SpanExamples) {
  CipherSpan s = cipherSpanForPlain(0, 1);
  EXPECT_EQ(s.firstBlock, 0u);
  EXPECT_EQ(s.blockCount, 1u);
  EXPECT_EQ(s.cipherOffset, 16u);
  EXPECT_EQ(s.cipherLength, 16u);
  EXPECT_EQ(s.plainSkip, 0u);
  EXPECT_FALSE(s.ivFromPreviousBlock);

  s = cipherSpanForPlain(16, 16);  // block 1 exactly: needs block 0 as IV
  EXPECT_EQ(s.firstBlock, 1u);
  EXPECT_EQ(s.blockCount, 1u);
  EXPECT_EQ(s.cipherOffset, 16u);
  EXPECT_EQ(s.cipherLength, 32u);
  EXPECT_TRUE(s.ivFromPreviousBlock);

  s = cipherSpanForPlain(20, 30);  // bytes 20..49: blocks 1..3, IV block 0
  EXPECT_EQ(s.firstBlock, 1u);
  EXPECT_EQ(s.blockCount, 3u);
  EXPECT_EQ(s.cipherOffset, 16u);
  EXPECT_EQ(s.cipherLength, 64u);
  EXPECT_EQ(s.plainSkip, 4u);
}

// Invariants over many random ranges: the span covers the range, starts one block early when it needs an IV.
TEST(CipherOffsets, SpanInvariants) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 10000; i++) {
    const std::uint64_t offset = rng() % (1u << 24);
    const std::uint64_t length = 1 + rng() % (1u << 18);
    const CipherSpan s = cipherSpanForPlain(offset, length);
    ASSERT_EQ(s.cipherLength % kBlockSize, 0u);
    ASSERT_EQ(s.cipherOffset, kHeaderSize + (s.firstBlock - (s.ivFromPreviousBlock ? 1 : 0)) * kBlockSize);
    ASSERT_LE(s.firstBlock * kBlockSize + s.plainSkip, offset);
    ASSERT_EQ(s.firstBlock * kBlockSize + s.plainSkip, offset);
    ASSERT_GE((s.firstBlock + s.blockCount) * kBlockSize, offset + length);
    ASSERT_LT((s.firstBlock + s.blockCount - 1) * kBlockSize, offset + length);
    ASSERT_EQ(s.cipherLength, (s.blockCount + (s.ivFromPreviousBlock ? 1 : 0)) * kBlockSize);
  }
}

}  // namespace
}  // namespace pgbr::crypto::offsets
