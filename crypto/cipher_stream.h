// A cipher as a bounded stream transform (the zlib model): each call consumes what it can of the input and
// writes at most out.size() bytes, however small; what does not fit waits inside (a few blocks at most).
// This is the shape the byte pipeline in backup/ composes; a `none` spec is not handled here (no transform).
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <variant>

#include "crypto/bytes.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_block_encryptor.h"
#include "crypto/secret.h"

namespace pgbr::crypto {

class CipherStream {
 public:
  enum class Mode { Encrypt, Decrypt };
  struct Step {
    std::size_t consumed;
    std::size_t produced;
  };

  CipherStream(Mode mode, const Secret& pass, CipherHeaderKind header = CipherHeaderKind::Salted);

  // Consumes a prefix of `in` and writes at most out.size() bytes. Makes progress whenever `in` or the
  // held-back output is non-empty and `out` is non-empty. Throws CryptoError on malformed input.
  Step process(ByteView in, MutableByteView out);
  // The input has ended: writes what remains. Call until finished(); throws CryptoError on a bad end of stream.
  std::size_t finish(MutableByteView out);
  bool finished() const { return finished_ && pendingSize_ == pendingOffset_; }

 private:
  std::size_t drainPending(MutableByteView out);

  std::variant<CipherBlockEncryptor, CipherBlockDecryptor> engine_;
  // Output that did not fit the caller's buffer: one small piece of input plus header and padding.
  static constexpr std::size_t kPieceSize = 64;
  std::array<std::uint8_t, kPieceSize + 2 * offsets::kHeaderSize + offsets::kBlockSize> pending_{};
  std::size_t pendingOffset_ = 0;
  std::size_t pendingSize_ = 0;
  bool finished_ = false;
};

}  // namespace pgbr::crypto
