#include "crypto/cipher_block_decryptor.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "crypto/crypto_error.h"
#include "crypto/key_derivation.h"

namespace pgbr::crypto {

namespace {
constexpr char kMagic[] = "Salted__";
constexpr std::size_t kMaxEvpChunk = std::size_t{1} << 30;
}  // namespace

CipherBlockDecryptor::CipherBlockDecryptor(const Secret& pass, CipherHeaderKind header)
    : pass_(pass.clone()), headerKind_(header), ctx_(newCipherCtx()) {}

std::size_t CipherBlockDecryptor::headerSize() const {
  return headerKind_ == CipherHeaderKind::Salted ? offsets::kHeaderSize : offsets::kSaltSize;
}

std::size_t CipherBlockDecryptor::update(ByteView in, MutableByteView out) {
  if (finished_) throw std::logic_error("CipherBlockDecryptor::update after finish");
  if (out.size() < maxUpdateOutput(in.size())) throw std::invalid_argument("cipher output buffer too small");

  if (!keyReady_ && !in.empty()) {
    const std::size_t take = std::min(in.size(), headerSize() - headerSeen_);
    std::memcpy(header_ + headerSeen_, in.data(), take);
    headerSeen_ += take;
    in = in.subspan(take);
    // Fail on the magic as early as it can be judged, so plain files are rejected without reading them whole.
    if (headerKind_ == CipherHeaderKind::Salted &&
        std::memcmp(header_, kMagic, std::min(headerSeen_, std::size_t{offsets::kMagicSize})) != 0)
      throw headerInvalidError();
    if (headerSeen_ == headerSize()) {
      const std::size_t saltOffset = headerKind_ == CipherHeaderKind::Salted ? offsets::kMagicSize : 0;
      DerivedKey derived;
      deriveKey(pass_, ByteView(header_ + saltOffset, offsets::kSaltSize), derived);
      if (EVP_DecryptInit_ex(ctx_.get(), EVP_aes_256_cbc(), nullptr, derived.key.data(), derived.iv.data()) != 1)
        throwOpenSslError("EVP_DecryptInit_ex");
      pass_ = Secret();  // no longer needed: the key schedule lives in the context
      keyReady_ = true;
    }
  }

  std::size_t written = 0;
  while (!in.empty()) {
    const std::size_t piece = std::min(in.size(), kMaxEvpChunk);
    int produced = 0;
    if (EVP_DecryptUpdate(ctx_.get(), out.data() + written, &produced, in.data(), static_cast<int>(piece)) != 1)
      throwOpenSslError("EVP_DecryptUpdate");
    written += static_cast<std::size_t>(produced);
    cipherBytes_ += piece;
    in = in.subspan(piece);
  }
  return written;
}

std::size_t CipherBlockDecryptor::finish(MutableByteView out) {
  if (finished_) throw std::logic_error("CipherBlockDecryptor::finish called twice");
  if (out.size() < kMaxFinishOutput) throw std::invalid_argument("cipher output buffer too small");
  finished_ = true;
  if (!keyReady_) throw headerMissingError(headerSeen_);
  if (cipherBytes_ == 0 || cipherBytes_ % offsets::kBlockSize != 0) throw notBlockAlignedError(cipherBytes_);
  int produced = 0;
  if (EVP_DecryptFinal_ex(ctx_.get(), out.data(), &produced) != 1) {
    ERR_clear_error();  // OpenSSL queued "bad decrypt"; our error says it better
    throw badPaddingError();
  }
  return static_cast<std::size_t>(produced);
}

Bytes decryptBuffer(const Secret& pass, ByteView cipher, CipherHeaderKind header) {
  CipherBlockDecryptor decryptor(pass, header);
  Bytes out(CipherBlockDecryptor::maxUpdateOutput(cipher.size()) + CipherBlockDecryptor::kMaxFinishOutput);
  std::size_t size = decryptor.update(cipher, out);
  size += decryptor.finish(MutableByteView(out).subspan(size));
  out.resize(size);
  return out;
}

}  // namespace pgbr::crypto
