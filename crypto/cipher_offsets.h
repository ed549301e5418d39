// All plaintext <-> ciphertext offset arithmetic of the "Salted__" AES-256-CBC format, in one place.
// Layout (FORMAT.md §2): 16-byte header, then CBC blocks of 16 bytes; PKCS#7 always adds 1..16 bytes,
// so cipher size C = 16 + 16 * (floor(P / 16) + 1). Names say which side a number lives on: plain* or cipher*.
#pragma once

#include <cstdint>

namespace pgbr::crypto::offsets {

inline constexpr std::uint64_t kMagicSize = 8;    // "Salted__"
inline constexpr std::uint64_t kSaltSize = 8;
inline constexpr std::uint64_t kHeaderSize = kMagicSize + kSaltSize;
inline constexpr std::uint64_t kBlockSize = 16;
// The smallest valid encrypted file: header plus one block of padding (empty plaintext).
inline constexpr std::uint64_t kMinCipherSize = kHeaderSize + kBlockSize;

constexpr std::uint64_t cipherSizeForPlain(std::uint64_t plainSize) {
  return kHeaderSize + kBlockSize * (plainSize / kBlockSize + 1);
}

// A cipher file size is well formed when it holds a header and a whole, non-zero number of blocks.
constexpr bool cipherSizeValid(std::uint64_t cipherSize) {
  return cipherSize >= kMinCipherSize && (cipherSize - kHeaderSize) % kBlockSize == 0;
}

constexpr std::uint64_t cipherBlockCount(std::uint64_t cipherSize) { return (cipherSize - kHeaderSize) / kBlockSize; }

// Byte offset in the cipher file of block `block` (block 0 follows the header).
constexpr std::uint64_t cipherOffsetOfBlock(std::uint64_t block) { return kHeaderSize + block * kBlockSize; }

// Plaintext size from the cipher size and the pad length found in the last block (1..16).
constexpr std::uint64_t plainSizeFromPad(std::uint64_t cipherSize, unsigned padLength) {
  return cipherSize - kHeaderSize - padLength;
}

// The cipher bytes to read to decrypt plain range [plainOffset, plainOffset + plainLength), plainLength > 0:
// the blocks that hold the range, preceded by the block before them (its ciphertext is the CBC IV)
// unless the range starts in block 0 (then the IV comes from the key derivation).
struct CipherSpan {
  std::uint64_t firstBlock;      // first block to decrypt
  std::uint64_t blockCount;      // blocks to decrypt
  std::uint64_t cipherOffset;    // where to start reading: block firstBlock-1, or firstBlock when it is 0
  std::uint64_t cipherLength;    // bytes to read from cipherOffset
  std::uint64_t plainSkip;       // bytes to drop from the front of the decrypted blocks
  bool ivFromPreviousBlock;      // true when the first 16 bytes read are the IV, not data
};

constexpr CipherSpan cipherSpanForPlain(std::uint64_t plainOffset, std::uint64_t plainLength) {
  const std::uint64_t firstBlock = plainOffset / kBlockSize;
  const std::uint64_t lastBlock = (plainOffset + plainLength - 1) / kBlockSize;
  const bool ivFromPrevious = firstBlock > 0;
  const std::uint64_t readFirst = ivFromPrevious ? firstBlock - 1 : firstBlock;
  return CipherSpan{firstBlock,
                    lastBlock - firstBlock + 1,
                    cipherOffsetOfBlock(readFirst),
                    (lastBlock - readFirst + 1) * kBlockSize,
                    plainOffset - firstBlock * kBlockSize,
                    ivFromPrevious};
}

}  // namespace pgbr::crypto::offsets
