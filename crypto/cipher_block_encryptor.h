// Streaming encryption into pgBackRest's cipher block format (FORMAT.md §2): "Salted__", a fresh random
// 8-byte salt, then AES-256-CBC with PKCS#7 padding; exactly what `openssl enc -aes-256-cbc -md sha1` writes.
// Input may arrive in pieces of any size (1 byte included); memory use does not depend on the stream length.
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/bytes.h"
#include "crypto/cipher_offsets.h"
#include "crypto/evp_handles.h"
#include "crypto/secret.h"

namespace pgbr::crypto {

class CipherBlockEncryptor {
 public:
  // Upper bound of what update() writes for `inputSize` bytes (header on the first call, one block of carry).
  static constexpr std::size_t maxUpdateOutput(std::size_t inputSize) {
    return inputSize + offsets::kHeaderSize + offsets::kBlockSize;
  }
  // Upper bound of what finish() writes (header if nothing was written yet, plus the padding block).
  static constexpr std::size_t kMaxFinishOutput = offsets::kHeaderSize + offsets::kBlockSize;

  // Draws a fresh random salt. The passphrase is used now and not retained.
  explicit CipherBlockEncryptor(const Secret& pass);
  // A fixed salt, for known-answer tests; never use it for repository files.
  CipherBlockEncryptor(const Secret& pass, ByteView salt);

  // Encrypts `in`; `out` must hold maxUpdateOutput(in.size()) bytes. Returns the bytes written.
  std::size_t update(ByteView in, MutableByteView out);
  // Writes the final padded block (and the header, for empty input). `out` must hold kMaxFinishOutput bytes.
  std::size_t finish(MutableByteView out);

 private:
  std::size_t writeHeader(MutableByteView out);

  EvpCipherCtx ctx_;
  std::uint8_t salt_[offsets::kSaltSize];
  bool headerWritten_ = false;
  bool finished_ = false;
};

// One-shot helper for small buffers (info files, tests): the whole ciphertext of `plain`.
Bytes encryptBuffer(const Secret& pass, ByteView plain);

}  // namespace pgbr::crypto
