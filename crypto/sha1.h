// Streaming SHA-1, the checksum of pgBackRest's format: WAL names, manifest checksum/rck, info backrest-checksum.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "crypto/bytes.h"
#include "crypto/evp_handles.h"

namespace pgbr::crypto {

class Sha1 {
 public:
  using Digest = std::array<std::uint8_t, 20>;

  Sha1();
  void update(ByteView data);
  // Ends the hash; the object may not be updated afterwards.
  Digest finish();
  // Lowercase hex, 40 characters, as pgBackRest writes it.
  std::string finishHex();

  static std::string hex(const Digest& digest);
  static std::string hexOf(ByteView data);
  // SHA-1 of the empty string: what pgBackRest implies for zero-length files.
  static constexpr const char* kEmptyHex = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

 private:
  EvpMdCtx ctx_;
};

}  // namespace pgbr::crypto
