#include "crypto/crypto_error.h"

#include <openssl/err.h>

namespace pgbr::crypto {

CryptoError headerInvalidError() {
  return CryptoError(CryptoErrorKind::HeaderInvalid, "cipher header invalid", "is or was the repo encrypted?");
}

CryptoError headerMissingError(std::size_t bytesSeen) {
  return CryptoError(CryptoErrorKind::HeaderMissing,
                     "cipher header missing: input ended after " + std::to_string(bytesSeen) +
                         " of the 16 header bytes",
                     "the file is empty or truncated; restore it from another copy");
}

CryptoError notBlockAlignedError(unsigned long long cipherBytes) {
  if (cipherBytes == 0)
    return CryptoError(CryptoErrorKind::NotBlockAligned, "unable to flush: no cipher blocks after the header",
                       "the file is truncated or corrupt; restore it from another copy");
  return CryptoError(CryptoErrorKind::NotBlockAligned,
                     "unable to flush: ciphertext of " + std::to_string(cipherBytes) +
                         " bytes after the header is not a whole number of 16-byte blocks",
                     "the file is truncated or corrupt; restore it from another copy");
}

CryptoError badPaddingError() {
  return CryptoError(CryptoErrorKind::BadPadding, "unable to flush: bad padding in the last cipher block",
                     "is the passphrase correct? a wrong passphrase or a corrupt last block fails here");
}

void throwOpenSslError(const char* what) {
  std::string message = std::string("openssl: ") + what + " failed";
  if (unsigned long code = ERR_get_error(); code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof(reason));
    message += ": ";
    message += reason;
  }
  ERR_clear_error();
  throw CryptoError(CryptoErrorKind::Internal, message);
}

}  // namespace pgbr::crypto
