#include "crypto/evp_handles.h"

#include "crypto/crypto_error.h"

namespace pgbr::crypto {

EvpCipherCtx newCipherCtx() {
  EvpCipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throwOpenSslError("EVP_CIPHER_CTX_new");
  return ctx;
}

EvpMdCtx newMdCtx() {
  EvpMdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) throwOpenSslError("EVP_MD_CTX_new");
  return ctx;
}

}  // namespace pgbr::crypto
