// Owning handles for OpenSSL contexts (stateless deleters), so no code path can leak or double-free them.
#pragma once

#include <openssl/evp.h>

#include <memory>

namespace pgbr::crypto {

struct EvpCipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }  // also wipes the key schedule
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

using EvpCipherCtx = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxDeleter>;
using EvpMdCtx = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;

// Both throw CryptoError(Internal) when OpenSSL cannot allocate.
EvpCipherCtx newCipherCtx();
EvpMdCtx newMdCtx();

}  // namespace pgbr::crypto
