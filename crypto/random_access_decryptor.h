// Random-access reads of a file in pgBackRest's cipher block format. CBC decryption of block n needs only
// ciphertext block n-1 (or the derived IV for block 0), so a read decrypts just the blocks it touches; the
// exact plaintext size needs only the last two blocks. Offsets come from cipher_offsets.h. Salted header only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "crypto/bytes.h"
#include "crypto/cipher_offsets.h"
#include "crypto/key_derivation.h"
#include "crypto/secret.h"

namespace pgbr::crypto {

class RandomAccessDecryptor {
 public:
  // Reads exactly out.size() bytes of the cipher file at `cipherOffset`, or throws (short reads are errors).
  using ReadAt = std::function<void(std::uint64_t cipherOffset, MutableByteView out)>;

  // `header` is the file's first 16 bytes (or fewer, if the file is that short) and `cipherSize` its length.
  // Throws CryptoError: HeaderMissing (short file), HeaderInvalid (no magic), NotBlockAligned (truncated).
  RandomAccessDecryptor(const Secret& pass, ByteView header, std::uint64_t cipherSize);

  std::uint64_t cipherSize() const { return cipherSize_; }

  // The exact plaintext size, from the last two cipher blocks. Throws CryptoError(BadPadding) when the last
  // block's padding is invalid (wrong passphrase or corruption).
  std::uint64_t plainSize(const ReadAt& readAt) const;

  // Decrypts plain bytes [plainOffset, plainOffset + out.size()) but not past `plainSize` (from plainSize()).
  // Returns the bytes written; 0 at or past the end. Thread-safe: const and without shared mutable state.
  std::size_t read(const ReadAt& readAt, std::uint64_t plainOffset, MutableByteView out,
                   std::uint64_t plainSize) const;

 private:
  std::size_t readInPlace(const ReadAt& readAt, const offsets::CipherSpan& span, MutableByteView out) const;

  DerivedKey key_;
  std::uint64_t cipherSize_;
};

}  // namespace pgbr::crypto
