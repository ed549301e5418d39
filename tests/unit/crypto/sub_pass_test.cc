#include "crypto/sub_pass.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <set>

namespace pgbr::crypto {
namespace {

TEST(SubPass, ShapeIsBase64Of48RandomBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; i++) {
    const Secret pass = generateSubPass();
    const std::string_view text = pass.reveal();
    ASSERT_EQ(text.size(), 64u);
    for (char c : text) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') << c;
    unsigned char decoded[64];
    ASSERT_EQ(EVP_DecodeBlock(decoded, reinterpret_cast<const unsigned char*>(text.data()), 64), 48);
    seen.insert(std::string(text));
  }
  EXPECT_EQ(seen.size(), 200u);
}

}  // namespace
}  // namespace pgbr::crypto
