// bench_crypto: throughput of pgbrfs's cipher layer against raw OpenSSL EVP AES-256-CBC measured in the same
// run on the same machine (ratios are what matter; the machine is noisy, so each figure is a median of runs).
// Usage: bench_crypto [MiB per run, default 256]
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_block_encryptor.h"
#include "crypto/cipher_stream.h"
#include "crypto/random_access_decryptor.h"

using pgbr::Bytes;
using pgbr::ByteView;
using pgbr::MutableByteView;
using namespace pgbr::crypto;

namespace {

constexpr int kRuns = 5;

double medianSeconds(const std::function<void()>& work) {
  std::vector<double> times;
  for (int i = 0; i < kRuns; i++) {
    const auto start = std::chrono::steady_clock::now();
    work();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[kRuns / 2];
}

double rawEvp(bool encrypt, const Bytes& input, std::size_t chunk, Bytes& output) {
  const unsigned char key[32] = {1, 2, 3}, iv[16] = {4, 5, 6};
  return medianSeconds([&] {
    EvpCipherCtx ctx = newCipherCtx();
    EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key, iv, encrypt ? 1 : 0);
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    int produced = 0;
    for (std::size_t off = 0; off < input.size(); off += chunk)
      EVP_CipherUpdate(ctx.get(), output.data() + off, &produced, input.data() + off, static_cast<int>(chunk));
  });
}

void row(const char* name, double bytes, double seconds, double reference) {
  const double mbps = bytes / seconds / 1e6;
  std::printf("%-44s %9.0f MB/s   %5.2fx raw EVP\n", name, mbps, mbps / reference);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256;
  const std::size_t size = mib << 20;
  const Secret pass("bench-passphrase");
  Bytes plain(size);
  std::mt19937 rng(1);
  for (auto& b : plain) b = static_cast<std::uint8_t>(rng());
  Bytes scratch(size + 64);

  std::printf("bench_crypto: %zu MiB per run, median of %d runs\n\n", mib, kRuns);
  const double rawEnc = static_cast<double>(size) / rawEvp(true, plain, 65536, scratch) / 1e6;
  const double rawDec = static_cast<double>(size) / rawEvp(false, plain, 65536, scratch) / 1e6;
  std::printf("%-44s %9.0f MB/s\n", "raw EVP aes-256-cbc encrypt (64 KiB updates)", rawEnc);
  std::printf("%-44s %9.0f MB/s\n\n", "raw EVP aes-256-cbc decrypt (64 KiB updates)", rawDec);

  for (std::size_t chunk : {std::size_t{65536}, std::size_t{1} << 20}) {
    Bytes cipher;
    const double enc = medianSeconds([&] {
      CipherBlockEncryptor encryptor(pass);
      std::size_t written = 0;
      scratch.resize(size + 64);
      for (std::size_t off = 0; off < size; off += chunk)
        written += encryptor.update(ByteView(plain).subspan(off, chunk), MutableByteView(scratch).subspan(written));
      written += encryptor.finish(MutableByteView(scratch).subspan(written));
      cipher.assign(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(written));
    });
    Bytes out(size + 64);
    const double dec = medianSeconds([&] {
      CipherBlockDecryptor decryptor(pass);
      std::size_t written = 0;
      for (std::size_t off = 0; off < cipher.size(); off += chunk)
        written += decryptor.update(ByteView(cipher).subspan(off, std::min(chunk, cipher.size() - off)),
                                    MutableByteView(out).subspan(written));
      written += decryptor.finish(MutableByteView(out).subspan(written));
    });
    const double streamDec = medianSeconds([&] {
      CipherStream stream(CipherStream::Mode::Decrypt, pass);
      Bytes buffer(chunk);
      ByteView in(cipher);
      while (!in.empty()) in = in.subspan(stream.process(in, buffer).consumed);
      while (!stream.finished()) stream.finish(buffer);
    });
    char name[64];
    std::snprintf(name, sizeof(name), "streaming encrypt, %zu KiB chunks", chunk >> 10);
    row(name, static_cast<double>(size), enc, rawEnc);
    std::snprintf(name, sizeof(name), "streaming decrypt, %zu KiB chunks", chunk >> 10);
    row(name, static_cast<double>(size), dec, rawDec);
    std::snprintf(name, sizeof(name), "CipherStream decrypt, %zu KiB buffers", chunk >> 10);
    row(name, static_cast<double>(size), streamDec, rawDec);

    if (chunk == 65536) {
      // Random-access 128 KiB reads over the encrypted file held in memory (reads are memcpy, as from page cache).
      RandomAccessDecryptor reader(pass, cipher, cipher.size());
      auto readAt = [&cipher](std::uint64_t offset, MutableByteView dest) {
        std::copy_n(cipher.data() + offset, dest.size(), dest.data());
      };
      const std::uint64_t plainSize = reader.plainSize(readAt);
      const std::size_t reads = size / (128 << 10);
      std::vector<std::uint64_t> offsets(reads);
      std::mt19937_64 pick(7);
      for (auto& o : offsets) o = pick() % (plainSize - (128 << 10));  // unaligned on purpose
      Bytes dest(128 << 10);
      const double ra = medianSeconds([&] {
        for (std::uint64_t o : offsets) reader.read(readAt, o, dest, plainSize);
      });
      const double raBytes = static_cast<double>(reads * (128 << 10));
      row("random-access decrypt, 128 KiB reads", raBytes, ra, rawDec);
      // The physical floor of the same work: copy the same cipher ranges out of memory, then raw EVP decrypt.
      Bytes copy(128 << 10);
      const unsigned char key[32] = {1}, iv[16] = {2};
      const double floor = medianSeconds([&] {
        for (std::uint64_t o : offsets) {
          std::copy_n(cipher.data() + 16 + (o & ~std::uint64_t{15}), copy.size(), copy.data());
          EvpCipherCtx ctx = newCipherCtx();
          EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key, iv);
          EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
          int produced = 0;
          EVP_DecryptUpdate(ctx.get(), dest.data(), &produced, copy.data(), static_cast<int>(copy.size()));
        }
      });
      const double floorMbps = raBytes / floor / 1e6;
      std::printf("%-44s %9.0f MB/s   (ours: %.2fx of it)\n", "  floor: memcpy + raw EVP of the same ranges",
                  floorMbps, raBytes / ra / 1e6 / floorMbps);
    }
  }
  std::printf("\ngoals: streaming >= 0.90x raw EVP for 64 KiB+ buffers; random-access 128 KiB >= 0.80x raw decrypt\n");
  return 0;
}
