// Reads the plaintext of a published backing file: random-access decryption of only the blocks a read touches
// (crypto::RandomAccessDecryptor), or plain positional reads on a `none` mount. Owns its descriptor, so reads keep
// working after the file is unlinked or replaced.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "crypto/cipher_spec.h"
#include "crypto/random_access_decryptor.h"
#include "backup/unique_fd.h"

namespace pgbr::fs {

using backup::UniqueFd;

class BackingReader {
 public:
  // Validates header, length and padding up front; throws crypto::CryptoError for a corrupt file.
  BackingReader(UniqueFd fd, const crypto::CipherSpec& spec, std::string name);

  std::uint64_t plainSize() const { return plainSize_; }
  // Thread-safe.
  std::size_t read(std::uint64_t offset, MutableByteView out) const;
  int fd() const { return fd_.get(); }

  // The plaintext size of the file open on `fd` (encrypted: from its last two blocks). Throws like the constructor.
  static std::uint64_t plainSizeOf(int fd, std::uint64_t cipherSize, const crypto::CipherSpec& spec,
                                   const std::string& name);

 private:
  UniqueFd fd_;
  std::string name_;
  std::optional<crypto::RandomAccessDecryptor> decryptor_;
  std::uint64_t plainSize_ = 0;
};

}  // namespace pgbr::fs
