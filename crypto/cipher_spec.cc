#include "crypto/cipher_spec.h"

#include <stdexcept>

namespace pgbr::crypto {

std::string_view cipherTypeName(CipherType type) {
  return type == CipherType::Aes256Cbc ? "aes-256-cbc" : "none";
}

std::optional<CipherType> parseCipherType(std::string_view name) {
  if (name == "none") return CipherType::None;
  if (name == "aes-256-cbc") return CipherType::Aes256Cbc;
  return std::nullopt;
}

CipherSpec CipherSpec::aes256Cbc(Secret pass) {
  if (pass.empty()) throw std::invalid_argument("cipher passphrase is empty");
  CipherSpec spec;
  spec.type_ = CipherType::Aes256Cbc;
  spec.pass_ = std::make_shared<const Secret>(std::move(pass));
  return spec;
}

}  // namespace pgbr::crypto
