// Sub-passphrases as pgBackRest generates them for archive.info, backup.info and each full backup's manifest
// (FORMAT.md §3): 48 random bytes in standard base64, 64 characters, used as-is (never base64-decoded).
#pragma once

#include "crypto/secret.h"

namespace pgbr::crypto {

inline constexpr std::size_t kSubPassRandomBytes = 48;
inline constexpr std::size_t kSubPassLength = 64;

Secret generateSubPass();

}  // namespace pgbr::crypto
