// Known-answer tests from the pgBackRest 2.45 vectors (README.md "Known-answer tests"), verified there with
// both the openssl CLI and an independent Python implementation.
#include <gtest/gtest.h>

#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_block_encryptor.h"
#include "crypto/key_derivation.h"
#include "unit/test_support.h"

namespace pgbr::crypto {
namespace {

const Secret kPass("pgbr-Test-Passphrase-42");
const Bytes kSalt = test::fromHex("0001020304050607");

Bytes encryptWithSalt(std::string_view plain) {
  CipherBlockEncryptor encryptor(kPass, kSalt);
  Bytes out(CipherBlockEncryptor::maxUpdateOutput(plain.size()) + CipherBlockEncryptor::kMaxFinishOutput);
  std::size_t size = encryptor.update(asBytes(plain), out);
  size += encryptor.finish(MutableByteView(out).subspan(size));
  out.resize(size);
  return out;
}

TEST(KnownAnswer, KeyAndIvFromEvpBytesToKey) {
  DerivedKey derived;
  deriveKey(kPass, kSalt, derived);
  EXPECT_EQ(test::toHex(derived.key), "d31d6945b5f469fbf32b71bd019fb3ef04731422d2341e034334a05ced2e7219");
  EXPECT_EQ(test::toHex(derived.iv), "ddd1eff8fd0c11d8d8ff2daee4de79d6");
}

struct Vector {
  const char* plain;
  const char* cipherHex;
};

const Vector kVectors[] = {
    {"", "53616c7465645f5f00010203040506070f49715326a49eeddb28a5706a0e3da3"},
    {"pgBackRest\n", "53616c7465645f5f00010203040506079cf3c04915d8fe1cc77e892a7c08de74"},
    {"0123456789abcdef",
     "53616c7465645f5f0001020304050607adc63b2243b7d05545f0bfd44681097063760879df9300dad0ddcc4945f308b7"},
};

TEST(KnownAnswer, EncryptMatchesVectors) {
  for (const Vector& v : kVectors) EXPECT_EQ(test::toHex(encryptWithSalt(v.plain)), v.cipherHex) << v.plain;
}

TEST(KnownAnswer, DecryptMatchesVectors) {
  for (const Vector& v : kVectors)
    EXPECT_EQ(asText(decryptBuffer(kPass, test::fromHex(v.cipherHex))), v.plain) << v.plain;
}

TEST(KnownAnswer, FreshSaltPerEncryption) {
  const Bytes a = encryptBuffer(kPass, asBytes("same plaintext"));
  const Bytes b = encryptBuffer(kPass, asBytes("same plaintext"));
  ASSERT_EQ(a.size(), 32u);
  EXPECT_NE(Bytes(a.begin() + 8, a.begin() + 16), Bytes(b.begin() + 8, b.begin() + 16));
  EXPECT_EQ(asText(ByteView(a).first(8)), "Salted__");
}

}  // namespace
}  // namespace pgbr::crypto
