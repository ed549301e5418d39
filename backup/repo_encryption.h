// Is the repository encrypted? pgbr never encrypts and never reads repo1-cipher-pass: an encrypted repository is
// one reached through a pgbrfs mount, which says so in the extended attribute user.pgbrfs.cipher-type of every path
// and encrypts what is written through it. The tools only need to know whether to write the [cipher] sub-passes
// of FORMAT.md §3 into new info files, and must refuse to write plaintext where the configuration expects
// encryption.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "crypto/cipher_spec.h"

namespace pgbr::backup {

inline constexpr const char* kCipherTypeXattr = "user.pgbrfs.cipher-type";

// The value of user.pgbrfs.cipher-type on `path`, or nullopt when the attribute is absent (not a pgbrfs mount, or a
// file system without extended attributes). Throws CommandError(PathMissing) when `path` does not exist and
// CommandError(FileOpen) on other failures.
std::optional<std::string> readCipherTypeXattr(const std::filesystem::path& path);

// The cipher type of the repository at `repoPath` as the tools must treat it: aes-256-cbc when the path is an
// encrypted pgbrfs mount, none otherwise. `configured` is repo1-cipher-type from the configuration (nullopt when
// unset). Throws CommandError(Crypto) when the configuration says aes-256-cbc but the path is not an encrypted
// mount (nothing may be written there: it would be plaintext where pgBackRest expects ciphertext), and when the
// attribute holds a value this version does not know.
crypto::CipherType detectRepoCipherType(const std::filesystem::path& repoPath,
                                        std::optional<crypto::CipherType> configured);

}  // namespace pgbr::backup
