// Streaming decryption of pgBackRest's cipher block format (FORMAT.md §2). Input may arrive in pieces of any
// size; memory use does not depend on the stream length. Every malformed input ends in a CryptoError: a wrong
// passphrase is caught by the padding check in finish() (CBC has no MAC: callers verify content by SHA-1).
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/bytes.h"
#include "crypto/cipher_offsets.h"
#include "crypto/evp_handles.h"
#include "crypto/secret.h"

namespace pgbr::crypto {

// pgBackRest's "raw" variant (bundles with backup-bundle-raw, block incremental) drops the magic and keeps the salt.
enum class CipherHeaderKind { Salted, Raw };

class CipherBlockDecryptor {
 public:
  // Upper bound of what update() writes for `inputSize` bytes (one held-back block may be released).
  static constexpr std::size_t maxUpdateOutput(std::size_t inputSize) { return inputSize + offsets::kBlockSize; }
  static constexpr std::size_t kMaxFinishOutput = offsets::kBlockSize;

  // The passphrase is copied and wiped when the header has been read (the key needs the salt).
  explicit CipherBlockDecryptor(const Secret& pass, CipherHeaderKind header = CipherHeaderKind::Salted);

  // Decrypts `in`; `out` must hold maxUpdateOutput(in.size()) bytes. Returns the bytes written.
  // Throws CryptoError(HeaderInvalid) as soon as the magic does not match.
  std::size_t update(ByteView in, MutableByteView out);
  // Ends the stream: checks the header was complete, the length is whole blocks and the padding is valid,
  // and writes the last plaintext bytes. `out` must hold kMaxFinishOutput bytes.
  std::size_t finish(MutableByteView out);

 private:
  std::size_t headerSize() const;

  Secret pass_;
  CipherHeaderKind headerKind_;
  EvpCipherCtx ctx_;
  std::uint8_t header_[offsets::kHeaderSize];
  std::size_t headerSeen_ = 0;
  bool keyReady_ = false;
  bool finished_ = false;
  std::uint64_t cipherBytes_ = 0;  // bytes after the header, to tell truncation from bad padding
};

// One-shot helper for small buffers (info files, tests).
Bytes decryptBuffer(const Secret& pass, ByteView cipher, CipherHeaderKind header = CipherHeaderKind::Salted);

}  // namespace pgbr::crypto
