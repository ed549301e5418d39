#include "crypto/secret.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace pgbr::crypto {

Secret::Secret(std::string_view text) {
  // Reserve first so the string never reallocates (which would leave an unwiped copy behind).
  // At least one more than the short-string capacity, so the bytes live in the locked heap block.
  text_.reserve(std::max<std::size_t>(text.size(), 32));
  text_.assign(text);
}

Secret Secret::adopt(std::string& text) {
  Secret secret(text);
  wipe(text);
  return secret;
}

Secret::Secret(Secret&& other) noexcept {
  // Swap keeps the bytes in the heap block they already occupy (no copy left behind for long strings).
  text_.swap(other.text_);
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    OPENSSL_cleanse(text_.data(), text_.capacity());
    text_.clear();
    text_.swap(other.text_);
  }
  return *this;
}

Secret::~Secret() { OPENSSL_cleanse(text_.data(), text_.capacity()); }

bool Secret::operator==(const Secret& other) const {
  return text_.size() == other.text_.size() && CRYPTO_memcmp(text_.data(), other.text_.data(), text_.size()) == 0;
}

void Secret::wipe(void* data, std::size_t size) {
  if (data != nullptr && size > 0) OPENSSL_cleanse(data, size);
}

void Secret::wipe(std::string& text) {
  // Wipe the whole capacity: a short-string buffer or a shrunk heap block may hold older bytes.
  wipe(text.data(), text.capacity());
  text.clear();
}

}  // namespace pgbr::crypto
