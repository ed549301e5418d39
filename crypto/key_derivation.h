// Key and IV derivation of the OpenSSL "enc" format that pgBackRest uses (FORMAT.md §2):
// EVP_BytesToKey(aes-256-cbc, SHA-1, salt, passphrase, 1 iteration). The result wipes itself.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/bytes.h"
#include "crypto/secret.h"

namespace pgbr::crypto {

struct DerivedKey {
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 16> iv{};

  DerivedKey() = default;
  DerivedKey(const DerivedKey&) = delete;
  DerivedKey& operator=(const DerivedKey&) = delete;
  ~DerivedKey() {
    Secret::wipe(key.data(), key.size());
    Secret::wipe(iv.data(), iv.size());
  }
};

// `salt` must be exactly 8 bytes. Throws CryptoError(Internal) if OpenSSL fails.
void deriveKey(const Secret& pass, ByteView salt, DerivedKey& out);

// Fills `out` with cryptographically strong random bytes (a fresh salt per file, sub-passes).
void randomBytes(MutableByteView out);

}  // namespace pgbr::crypto
