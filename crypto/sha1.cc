#include "crypto/sha1.h"

#include <openssl/evp.h>

#include "crypto/crypto_error.h"

namespace pgbr::crypto {

Sha1::Sha1() : ctx_(newMdCtx()) {
  if (EVP_DigestInit_ex(ctx_.get(), EVP_sha1(), nullptr) != 1) throwOpenSslError("EVP_DigestInit_ex");
}

void Sha1::update(ByteView data) {
  if (!data.empty() && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1)
    throwOpenSslError("EVP_DigestUpdate");
}

Sha1::Digest Sha1::finish() {
  Digest digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest.data(), &size) != 1 || size != digest.size())
    throwOpenSslError("EVP_DigestFinal_ex");
  return digest;
}

std::string Sha1::finishHex() { return hex(finish()); }

std::string Sha1::hex(const Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(digest.size() * 2, '0');
  for (std::size_t i = 0; i < digest.size(); i++) {
    text[2 * i] = kDigits[digest[i] >> 4];
    text[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return text;
}

std::string Sha1::hexOf(ByteView data) {
  Sha1 sha;
  sha.update(data);
  return sha.finishHex();
}

}  // namespace pgbr::crypto
