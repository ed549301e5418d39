#include "crypto/sub_pass.h"

#include <openssl/evp.h>

#include <array>
#include <string>

#include "crypto/crypto_error.h"
#include "crypto/key_derivation.h"

namespace pgbr::crypto {

Secret generateSubPass() {
  std::array<std::uint8_t, kSubPassRandomBytes> random{};
  randomBytes(random);
  std::array<unsigned char, kSubPassLength + 1> encoded{};  // EVP_EncodeBlock adds a NUL
  const int length = EVP_EncodeBlock(encoded.data(), random.data(), static_cast<int>(random.size()));
  Secret::wipe(random.data(), random.size());
  if (length != static_cast<int>(kSubPassLength)) throwOpenSslError("EVP_EncodeBlock");
  Secret pass(std::string_view(reinterpret_cast<const char*>(encoded.data()), kSubPassLength));
  Secret::wipe(encoded.data(), encoded.size());
  return pass;
}

}  // namespace pgbr::crypto
