// What encrypts a byte stream: a cipher type and, for aes-256-cbc, the passphrase.
// Specs are cheap to copy (the passphrase is shared, immutable, and wiped when the last copy goes).
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "crypto/secret.h"

namespace pgbr::crypto {

enum class CipherType { None, Aes256Cbc };

// pgBackRest's option values: "none" and "aes-256-cbc".
std::string_view cipherTypeName(CipherType type);
std::optional<CipherType> parseCipherType(std::string_view name);

class CipherSpec {
 public:
  // The spec of unencrypted data: filters built from it pass bytes through unchanged.
  static CipherSpec none() { return CipherSpec(); }
  // Throws std::invalid_argument on an empty passphrase (pgBackRest refuses one too).
  static CipherSpec aes256Cbc(Secret pass);

  CipherType type() const { return type_; }
  bool encrypted() const { return type_ != CipherType::None; }
  // Precondition: encrypted().
  const Secret& pass() const { return *pass_; }

 private:
  CipherSpec() = default;
  CipherType type_ = CipherType::None;
  std::shared_ptr<const Secret> pass_;
};

}  // namespace pgbr::crypto
