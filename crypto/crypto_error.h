// Errors raised by the cipher layer. Messages follow pgBackRest's wording where it has one
// ("cipher header invalid", "unable to flush"), so users can search for them; the hint says what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace pgbr::crypto {

enum class CryptoErrorKind {
  HeaderInvalid,    // input does not start with "Salted__": not encrypted, or another format
  HeaderMissing,    // input ended before the 16-byte header was complete (includes empty input)
  NotBlockAligned,  // ciphertext after the header is not a whole number of 16-byte blocks: truncated
  BadPadding,       // the last block does not end in valid PKCS#7 padding: wrong passphrase or corruption
  Internal,         // OpenSSL failed where it should not (allocation, initialisation)
};

class CryptoError : public std::runtime_error {
 public:
  CryptoError(CryptoErrorKind kind, const std::string& message, std::string hint = {})
      : std::runtime_error(message), kind_(kind), hint_(std::move(hint)) {}

  CryptoErrorKind kind() const noexcept { return kind_; }
  // One line telling the user what to do, or empty.
  const std::string& hint() const noexcept { return hint_; }

 private:
  CryptoErrorKind kind_;
  std::string hint_;
};

// The standard errors, built in one place so every caller words them the same way.
CryptoError headerInvalidError();
CryptoError headerMissingError(std::size_t bytesSeen);
CryptoError notBlockAlignedError(unsigned long long cipherBytes);
CryptoError badPaddingError();
// Throws CryptoError(Internal) naming the failed OpenSSL call, with OpenSSL's own reason appended.
[[noreturn]] void throwOpenSslError(const char* what);

}  // namespace pgbr::crypto
