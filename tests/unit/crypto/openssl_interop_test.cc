// Interoperability with the openssl CLI, which pgBackRest's format is defined by (FORMAT.md §2):
// our ciphertext decrypts with `openssl enc -d -aes-256-cbc -md sha1`, and its ciphertext decrypts with ours.
#include <gtest/gtest.h>

#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_block_encryptor.h"
#include "unit/test_support.h"

namespace pgbr::crypto {
namespace {

const std::size_t kSizes[] = {0, 1, 15, 16, 17, 4095, 4096, 4097, 1048576 + 3};
const char* kPassText = "interop-Passphrase-7";

std::string opensslEnc(const std::string& direction, const test::TempDir& dir, const std::string& in,
                       const std::string& out) {
  test::writeFile(dir / "pass", asBytes(kPassText));
  const test::CommandResult r = test::runCommand("openssl enc " + direction + " -aes-256-cbc -md sha1 -pass file:" +
                                                 (dir / "pass").string() + " -in " + (dir / in).string() +
                                                 " -out " + (dir / out).string());
  return r.exitCode == 0 ? "" : r.output;
}

TEST(OpensslInterop, OurCiphertextDecryptsWithOpenssl) {
  const Secret pass(kPassText);
  test::TempDir dir;
  for (std::size_t size : kSizes) {
    const Bytes plain = test::patternBytes(size, static_cast<std::uint32_t>(size) + 1);
    test::writeFile(dir / "cipher", encryptBuffer(pass, plain));
    ASSERT_EQ(opensslEnc("-d", dir, "cipher", "plain"), "") << size;
    EXPECT_EQ(test::readFile(dir / "plain"), plain) << size;
  }
}

TEST(OpensslInterop, OpensslCiphertextDecryptsWithOurs) {
  const Secret pass(kPassText);
  test::TempDir dir;
  for (std::size_t size : kSizes) {
    const Bytes plain = test::patternBytes(size, static_cast<std::uint32_t>(size) + 2);
    test::writeFile(dir / "plain", plain);
    ASSERT_EQ(opensslEnc("-e -salt", dir, "plain", "cipher"), "") << size;
    const Bytes cipher = test::readFile(dir / "cipher");
    ASSERT_EQ(asText(ByteView(cipher).first(8)), "Salted__");
    EXPECT_EQ(decryptBuffer(pass, cipher), plain) << size;
  }
}

}  // namespace
}  // namespace pgbr::crypto
