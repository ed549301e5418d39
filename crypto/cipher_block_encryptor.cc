#include "crypto/cipher_block_encryptor.h"

#include <openssl/evp.h>

#include <cstring>
#include <limits>
#include <stdexcept>

#include "crypto/crypto_error.h"
#include "crypto/key_derivation.h"

namespace pgbr::crypto {

namespace {
constexpr char kMagic[] = "Salted__";
// EVP takes int lengths; feed it bounded pieces so huge buffers cannot overflow.
constexpr std::size_t kMaxEvpChunk = std::size_t{1} << 30;
}  // namespace

CipherBlockEncryptor::CipherBlockEncryptor(const Secret& pass) : CipherBlockEncryptor(pass, ByteView()) {}

CipherBlockEncryptor::CipherBlockEncryptor(const Secret& pass, ByteView salt) : ctx_(newCipherCtx()) {
  if (salt.empty()) {
    randomBytes(MutableByteView(salt_, sizeof(salt_)));
  } else {
    if (salt.size() != sizeof(salt_)) throw std::invalid_argument("cipher salt must be 8 bytes");
    std::memcpy(salt_, salt.data(), sizeof(salt_));
  }
  DerivedKey derived;
  deriveKey(pass, ByteView(salt_, sizeof(salt_)), derived);
  if (EVP_EncryptInit_ex(ctx_.get(), EVP_aes_256_cbc(), nullptr, derived.key.data(), derived.iv.data()) != 1)
    throwOpenSslError("EVP_EncryptInit_ex");
}

std::size_t CipherBlockEncryptor::writeHeader(MutableByteView out) {
  if (headerWritten_) return 0;
  std::memcpy(out.data(), kMagic, offsets::kMagicSize);
  std::memcpy(out.data() + offsets::kMagicSize, salt_, offsets::kSaltSize);
  headerWritten_ = true;
  return offsets::kHeaderSize;
}

std::size_t CipherBlockEncryptor::update(ByteView in, MutableByteView out) {
  if (finished_) throw std::logic_error("CipherBlockEncryptor::update after finish");
  if (out.size() < maxUpdateOutput(in.size())) throw std::invalid_argument("cipher output buffer too small");
  std::size_t written = writeHeader(out);
  while (!in.empty()) {
    const std::size_t piece = std::min(in.size(), kMaxEvpChunk);
    int produced = 0;
    if (EVP_EncryptUpdate(ctx_.get(), out.data() + written, &produced, in.data(), static_cast<int>(piece)) != 1)
      throwOpenSslError("EVP_EncryptUpdate");
    written += static_cast<std::size_t>(produced);
    in = in.subspan(piece);
  }
  return written;
}

std::size_t CipherBlockEncryptor::finish(MutableByteView out) {
  if (finished_) throw std::logic_error("CipherBlockEncryptor::finish called twice");
  if (out.size() < kMaxFinishOutput) throw std::invalid_argument("cipher output buffer too small");
  // pgBackRest writes the header even for empty input, so an empty file encrypts to 32 bytes.
  std::size_t written = writeHeader(out);
  int produced = 0;
  if (EVP_EncryptFinal_ex(ctx_.get(), out.data() + written, &produced) != 1) throwOpenSslError("EVP_EncryptFinal_ex");
  finished_ = true;
  return written + static_cast<std::size_t>(produced);
}

Bytes encryptBuffer(const Secret& pass, ByteView plain) {
  CipherBlockEncryptor encryptor(pass);
  Bytes out(CipherBlockEncryptor::maxUpdateOutput(plain.size()) + CipherBlockEncryptor::kMaxFinishOutput);
  std::size_t size = encryptor.update(plain, out);
  size += encryptor.finish(MutableByteView(out).subspan(size));
  out.resize(size);
  return out;
}

}  // namespace pgbr::crypto
