#include "crypto/random_access_decryptor.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "crypto/crypto_error.h"
#include "crypto/evp_handles.h"

namespace pgbr::crypto {

namespace {
constexpr char kMagic[] = "Salted__";

// The cipher implementation, fetched once: an implicit fetch on every read costs more than decrypting 4 KiB.
const EVP_CIPHER* aes256Cbc() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  return cipher != nullptr ? cipher : EVP_aes_256_cbc();
}

// A decrypting context without padding, positioned so that the next block decrypted uses `iv`.
EvpCipherCtx blockDecryptCtx(const DerivedKey& key, const std::uint8_t* iv) {
  EvpCipherCtx ctx = newCipherCtx();
  if (EVP_DecryptInit_ex(ctx.get(), aes256Cbc(), nullptr, key.key.data(), iv) != 1)
    throwOpenSslError("EVP_DecryptInit_ex");
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  return ctx;
}

void decryptBlocks(EVP_CIPHER_CTX* ctx, const std::uint8_t* in, std::size_t size, std::uint8_t* out) {
  int produced = 0;
  if (EVP_DecryptUpdate(ctx, out, &produced, in, static_cast<int>(size)) != 1 ||
      static_cast<std::size_t>(produced) != size)
    throwOpenSslError("EVP_DecryptUpdate");
}
}  // namespace

RandomAccessDecryptor::RandomAccessDecryptor(const Secret& pass, ByteView header, std::uint64_t cipherSize)
    : cipherSize_(cipherSize) {
  const std::size_t seen = std::min<std::size_t>(header.size(), offsets::kHeaderSize);
  if (std::memcmp(header.data(), kMagic, std::min<std::size_t>(seen, offsets::kMagicSize)) != 0)
    throw headerInvalidError();
  if (cipherSize < offsets::kHeaderSize || seen < offsets::kHeaderSize)
    throw headerMissingError(static_cast<std::size_t>(std::min<std::uint64_t>(cipherSize, seen)));
  if (!offsets::cipherSizeValid(cipherSize)) throw notBlockAlignedError(cipherSize - offsets::kHeaderSize);
  deriveKey(pass, header.subspan(offsets::kMagicSize, offsets::kSaltSize), key_);
}

std::uint64_t RandomAccessDecryptor::plainSize(const ReadAt& readAt) const {
  const std::uint64_t lastBlock = offsets::cipherBlockCount(cipherSize_) - 1;
  const offsets::CipherSpan span = offsets::cipherSpanForPlain(lastBlock * offsets::kBlockSize, 1);
  std::array<std::uint8_t, 2 * offsets::kBlockSize> cipher{};
  readAt(span.cipherOffset, MutableByteView(cipher.data(), span.cipherLength));
  const std::uint8_t* iv = span.ivFromPreviousBlock ? cipher.data() : key_.iv.data();
  const std::uint8_t* block = span.ivFromPreviousBlock ? cipher.data() + offsets::kBlockSize : cipher.data();
  std::array<std::uint8_t, offsets::kBlockSize> plain{};
  EvpCipherCtx ctx = blockDecryptCtx(key_, iv);
  decryptBlocks(ctx.get(), block, offsets::kBlockSize, plain.data());

  // PKCS#7: the last byte n (1..16) and the n bytes before the end must all equal n.
  const unsigned pad = plain[offsets::kBlockSize - 1];
  bool valid = pad >= 1 && pad <= offsets::kBlockSize;
  for (unsigned i = 0; valid && i < pad; i++) valid = plain[offsets::kBlockSize - 1 - i] == pad;
  Secret::wipe(plain.data(), plain.size());
  if (!valid) throw badPaddingError();
  return offsets::plainSizeFromPad(cipherSize_, pad);
}

std::size_t RandomAccessDecryptor::read(const ReadAt& readAt, std::uint64_t plainOffset, MutableByteView out,
                                        std::uint64_t plainSize) const {
  if (plainOffset >= plainSize || out.empty()) return 0;
  const std::size_t length = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), plainSize - plainOffset));
  const offsets::CipherSpan span = offsets::cipherSpanForPlain(plainOffset, length);
  if (span.plainSkip == 0 && length >= offsets::kBlockSize) return readInPlace(readAt, span, out.first(length));

  // One read of the needed cipher blocks (plus the IV block); reused per thread to avoid allocating per call.
  thread_local std::vector<std::uint8_t> cipher;
  if (cipher.size() < span.cipherLength) cipher.resize(span.cipherLength);
  readAt(span.cipherOffset, MutableByteView(cipher.data(), span.cipherLength));

  const std::uint8_t* iv = span.ivFromPreviousBlock ? cipher.data() : key_.iv.data();
  const std::uint8_t* in = span.ivFromPreviousBlock ? cipher.data() + offsets::kBlockSize : cipher.data();
  EvpCipherCtx ctx = blockDecryptCtx(key_, iv);

  std::uint8_t* dest = out.data();
  std::size_t remaining = length;
  std::array<std::uint8_t, offsets::kBlockSize> edge{};
  // A range that starts inside a block, or is shorter than one: decrypt that block aside and copy the slice.
  if (span.plainSkip != 0 || remaining < offsets::kBlockSize) {
    decryptBlocks(ctx.get(), in, offsets::kBlockSize, edge.data());
    const std::size_t take = std::min<std::size_t>(remaining, offsets::kBlockSize - span.plainSkip);
    std::memcpy(dest, edge.data() + span.plainSkip, take);
    dest += take;
    remaining -= take;
    in += offsets::kBlockSize;
  }
  // Whole blocks go straight into the caller's buffer: no extra copy on the hot path.
  const std::size_t whole = remaining - remaining % offsets::kBlockSize;
  if (whole > 0) {
    decryptBlocks(ctx.get(), in, whole, dest);
    dest += whole;
    remaining -= whole;
    in += whole;
  }
  if (remaining > 0) {
    decryptBlocks(ctx.get(), in, offsets::kBlockSize, edge.data());
    std::memcpy(dest, edge.data(), remaining);
  }
  Secret::wipe(edge.data(), edge.size());
  return length;
}

// A read that starts on a block boundary (every read of the kernel's page cache): the ciphertext goes straight into
// the caller's buffer and is decrypted there, sparing a copy of the whole range through a buffer of our own.
std::size_t RandomAccessDecryptor::readInPlace(const ReadAt& readAt, const offsets::CipherSpan& span,
                                               MutableByteView out) const {
  constexpr std::size_t kBlock = offsets::kBlockSize;
  std::array<std::uint8_t, kBlock> iv{};
  if (span.ivFromPreviousBlock) {
    readAt(offsets::cipherOffsetOfBlock(span.firstBlock - 1), MutableByteView(iv.data(), kBlock));
  } else {
    std::memcpy(iv.data(), key_.iv.data(), kBlock);
  }
  const std::size_t whole = out.size() - out.size() % kBlock;
  readAt(offsets::cipherOffsetOfBlock(span.firstBlock), out.first(whole));
  // The IV of a partial last block is the last whole block's ciphertext, about to be overwritten.
  std::array<std::uint8_t, kBlock> lastCipher{};
  std::memcpy(lastCipher.data(), out.data() + whole - kBlock, kBlock);
  EvpCipherCtx ctx = blockDecryptCtx(key_, iv.data());
  decryptBlocks(ctx.get(), out.data(), whole, out.data());  // CBC decryption in place: OpenSSL allows in == out
  if (whole < out.size()) {
    std::array<std::uint8_t, kBlock> cipher{}, plain{};
    readAt(offsets::cipherOffsetOfBlock(span.firstBlock + whole / kBlock), MutableByteView(cipher.data(), kBlock));
    EvpCipherCtx last = blockDecryptCtx(key_, lastCipher.data());
    decryptBlocks(last.get(), cipher.data(), kBlock, plain.data());
    std::memcpy(out.data() + whole, plain.data(), out.size() - whole);
    Secret::wipe(plain.data(), plain.size());
  }
  return out.size();
}

}  // namespace pgbr::crypto
