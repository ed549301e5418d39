// Random access equals full sequential decryption for thousands of random ranges over files of varied sizes,
// and the plain size computed from the last blocks is exact.
#include "crypto/random_access_decryptor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_block_encryptor.h"
#include "crypto/crypto_error.h"
#include "unit/test_support.h"

namespace pgbr::crypto {
namespace {

const Secret kPass("random-access");

RandomAccessDecryptor::ReadAt readerOf(const Bytes& cipher) {
  return [&cipher](std::uint64_t offset, MutableByteView out) {
    if (offset + out.size() > cipher.size()) throw std::runtime_error("read past end");
    std::copy_n(cipher.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
  };
}

TEST(RandomAccess, PlainSizeForEverySmallSize) {
  for (std::size_t size = 0; size <= 300; size++) {
    const Bytes cipher = encryptBuffer(kPass, test::patternBytes(size, 1));
    RandomAccessDecryptor reader(kPass, cipher, cipher.size());
    ASSERT_EQ(reader.plainSize(readerOf(cipher)), size);
  }
}

// Reads [offset, offset + length) and checks it against the plaintext (a short or empty read past the end).
::testing::AssertionResult readsPlain(const RandomAccessDecryptor& reader, const Bytes& cipher, const Bytes& plain,
                                      std::uint64_t offset, std::size_t length) {
  Bytes out(length, 0xee);
  const std::size_t got = reader.read(readerOf(cipher), offset, out, plain.size());
  const std::size_t expected = offset >= plain.size() ? 0 : std::min<std::size_t>(length, plain.size() - offset);
  const auto where = "offset " + std::to_string(offset) + " length " + std::to_string(length) + " size " +
                     std::to_string(plain.size());
  if (got != expected)
    return ::testing::AssertionFailure() << "read " << got << " bytes, expected " << expected << ": " << where;
  if (!std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(got),
                  plain.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(offset, plain.size()))))
    return ::testing::AssertionFailure() << "wrong bytes: " << where;
  return ::testing::AssertionSuccess();
}

TEST(RandomAccess, TenThousandRandomRangesEqualFullDecryption) {
  std::mt19937_64 rng(20261128);
  int ranges = 0;
  for (std::size_t size : {1, 15, 16, 17, 255, 4096, 4097, 65536 + 5, 1048576 + 3}) {
    const Bytes plain = test::patternBytes(size, static_cast<std::uint32_t>(size));
    const Bytes cipher = encryptBuffer(kPass, plain);
    ASSERT_EQ(decryptBuffer(kPass, cipher), plain);
    RandomAccessDecryptor reader(kPass, cipher, cipher.size());
    const std::uint64_t plainSize = reader.plainSize(readerOf(cipher));
    ASSERT_EQ(plainSize, size);
    for (int i = 0; i < 1200; i++, ranges++) {
      const std::uint64_t offset = rng() % (size + 20);  // sometimes past the end
      const std::size_t length = 1 + rng() % std::min<std::size_t>(size + 40, 200000);
      ASSERT_TRUE(readsPlain(reader, cipher, plain, offset, length));
    }
  }
  EXPECT_GE(ranges, 10000);
}

TEST(RandomAccess, ExactBlockAlignedReads) {
  const Bytes plain = test::patternBytes(16 * 64, 8);
  const Bytes cipher = encryptBuffer(kPass, plain);
  RandomAccessDecryptor reader(kPass, cipher, cipher.size());
  Bytes out(16);
  for (std::uint64_t block = 0; block < 64; block++) {
    ASSERT_EQ(reader.read(readerOf(cipher), block * 16, out, plain.size()), 16u);
    ASSERT_TRUE(std::equal(out.begin(), out.end(), plain.begin() + static_cast<std::ptrdiff_t>(block * 16)));
  }
}

// Reads starting on a block boundary decrypt in the caller's buffer: every length, partial last blocks included.
TEST(RandomAccess, BlockAlignedReadsDecryptInPlace) {
  std::mt19937_64 rng(7);
  for (std::size_t size : {16, 17, 31, 4096, 4097, 131072 + 9}) {
    const Bytes plain = test::patternBytes(size, static_cast<std::uint32_t>(size + 1));
    const Bytes cipher = encryptBuffer(kPass, plain);
    RandomAccessDecryptor reader(kPass, cipher, cipher.size());
    for (int i = 0; i < 500; i++) {
      const std::uint64_t offset = 16 * (rng() % (size / 16 + 1));
      const std::size_t length = 16 + rng() % (size + 32);
      ASSERT_TRUE(readsPlain(reader, cipher, plain, offset, length));
    }
  }
}

TEST(RandomAccess, MalformedFiles) {
  const Bytes cipher = encryptBuffer(kPass, test::patternBytes(100, 1));
  try {
    RandomAccessDecryptor(kPass, asBytes("not encrypted at all"), 20);
    FAIL();
  } catch (const CryptoError& e) {
    EXPECT_EQ(e.kind(), CryptoErrorKind::HeaderInvalid);
  }
  try {
    RandomAccessDecryptor(kPass, ByteView(cipher).first(12), 12);
    FAIL();
  } catch (const CryptoError& e) {
    EXPECT_EQ(e.kind(), CryptoErrorKind::HeaderMissing);
  }
  try {
    RandomAccessDecryptor(kPass, cipher, cipher.size() - 3);
    FAIL();
  } catch (const CryptoError& e) {
    EXPECT_EQ(e.kind(), CryptoErrorKind::NotBlockAligned);
  }
  try {
    RandomAccessDecryptor(kPass, cipher, 16);
    FAIL();
  } catch (const CryptoError& e) {
    EXPECT_EQ(e.kind(), CryptoErrorKind::NotBlockAligned);
  }
}

TEST(RandomAccess, CorruptPaddingIsReportedBySize) {
  Bytes cipher = encryptBuffer(kPass, test::patternBytes(100, 1));
  cipher[cipher.size() - 17] ^= 0x01;  // flips the pad length byte
  RandomAccessDecryptor reader(kPass, cipher, cipher.size());
  try {
    reader.plainSize(readerOf(cipher));
    FAIL();
  } catch (const CryptoError& e) {
    EXPECT_EQ(e.kind(), CryptoErrorKind::BadPadding);
  }
}

}  // namespace
}  // namespace pgbr::crypto
