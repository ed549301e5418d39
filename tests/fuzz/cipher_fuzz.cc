// pgBackRest's cipher block format (crypto/): the header check and stream decryption, with the fixtures' repository
// passphrase so that seeds from tests/fixtures decrypt. Three decryptors must agree: the streaming CipherStream fed
// in pieces of every size, the one-shot decryptBuffer, and the RandomAccessDecryptor (plain size from the last two
// blocks, reads at offsets). Either all fail with a CryptoError, or all give the same plaintext. The raw header
// variant (no magic) is decrypted too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "crypto/bytes.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_stream.h"
#include "crypto/crypto_error.h"
#include "crypto/random_access_decryptor.h"
#include "crypto/secret.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using pgbr::Bytes;
using pgbr::ByteView;
using pgbr::MutableByteView;
using pgbr::crypto::CipherHeaderKind;
using pgbr::crypto::CipherStream;
using pgbr::crypto::CryptoError;
using pgbr::crypto::Secret;

std::optional<Bytes> streamDecrypt(const Secret& pass, ByteView in, CipherHeaderKind kind, std::uint64_t seed) {
  pgbr::fuzz::Chunker chunker(seed);
  CipherStream stream(CipherStream::Mode::Decrypt, pass, kind);
  Bytes plain;
  std::uint8_t out[80];
  try {
    std::size_t offset = 0;
    while (offset < in.size()) {
      const std::size_t piece = chunker.next(in.size() - offset);
      const std::size_t outSize = std::min(sizeof(out), chunker.next(sizeof(out)));
      const auto step = stream.process(in.subspan(offset, piece), MutableByteView(out, outSize));
      pgbr::fuzz::check(step.consumed > 0 || step.produced > 0, "CipherStream::process made no progress");
      plain.insert(plain.end(), out, out + step.produced);
      offset += step.consumed;
    }
    for (int guard = 0; !stream.finished(); ++guard) {
      pgbr::fuzz::check(guard < 1000, "CipherStream::finish never finishes");
      const std::size_t produced = stream.finish(MutableByteView(out, 7));
      plain.insert(plain.end(), out, out + produced);
    }
  } catch (const CryptoError&) {
    return std::nullopt;
  }
  return plain;
}

std::optional<Bytes> randomAccessDecrypt(const Secret& pass, ByteView in, std::uint64_t seed) {
  auto readAt = [&](std::uint64_t offset, MutableByteView out) {
    pgbr::fuzz::check(offset <= in.size() && out.size() <= in.size() - offset, "read past the end of the file");
    std::memcpy(out.data(), in.data() + offset, out.size());
  };
  try {
    pgbr::crypto::RandomAccessDecryptor decryptor(pass, in.first(std::min<std::size_t>(in.size(), 16)), in.size());
    const std::uint64_t plainSize = decryptor.plainSize(readAt);
    pgbr::fuzz::check(plainSize <= in.size(), "plain size larger than the file");
    Bytes plain(plainSize);
    pgbr::fuzz::Chunker chunker(seed);
    std::uint64_t offset = 0;
    while (offset < plainSize) {
      const std::size_t want = chunker.next(plainSize - offset);
      const std::size_t got = decryptor.read(readAt, offset, MutableByteView(plain.data() + offset, want), plainSize);
      pgbr::fuzz::check(got == want, "RandomAccessDecryptor::read returned a short read inside the file");
      offset += got;
    }
    std::uint8_t past[4];
    pgbr::fuzz::check(decryptor.read(readAt, plainSize, MutableByteView(past, sizeof(past)), plainSize) == 0,
                      "read at the end returned bytes");
    return plain;
  } catch (const CryptoError&) {
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Secret pass("pgbr-Test-Passphrase-42");
  const ByteView in(data, size);
  const std::uint64_t seed = pgbr::fuzz::seedOf(data, size);

  const std::optional<Bytes> streamed = streamDecrypt(pass, in, CipherHeaderKind::Salted, seed);
  std::optional<Bytes> oneShot;
  try {
    oneShot = pgbr::crypto::decryptBuffer(pass, in);
  } catch (const CryptoError&) {
  }
  const std::optional<Bytes> random = randomAccessDecrypt(pass, in, seed);
  pgbr::fuzz::check(streamed.has_value() == oneShot.has_value(), "stream and one-shot decryption disagree");
  pgbr::fuzz::check(streamed.has_value() == random.has_value(), "stream and random-access decryption disagree");
  if (streamed) {
    pgbr::fuzz::check(*streamed == *oneShot, "stream and one-shot plaintexts differ");
    pgbr::fuzz::check(*streamed == *random, "stream and random-access plaintexts differ");
  }

  (void)streamDecrypt(pass, in, CipherHeaderKind::Raw, seed + 1);
  return 0;
}
