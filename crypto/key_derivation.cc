#include "crypto/key_derivation.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "crypto/cipher_offsets.h"
#include "crypto/crypto_error.h"

namespace pgbr::crypto {

void deriveKey(const Secret& pass, ByteView salt, DerivedKey& out) {
  if (salt.size() != offsets::kSaltSize) throw std::invalid_argument("cipher salt must be 8 bytes");
  const ByteView passBytes = pass.bytes();
  if (EVP_BytesToKey(EVP_aes_256_cbc(), EVP_sha1(), salt.data(), passBytes.data(), static_cast<int>(passBytes.size()),
                     1, out.key.data(), out.iv.data()) != static_cast<int>(out.key.size()))
    throwOpenSslError("EVP_BytesToKey");
}

void randomBytes(MutableByteView out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) throwOpenSslError("RAND_bytes");
}

}  // namespace pgbr::crypto
