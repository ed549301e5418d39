#include "backup/repo_encryption.h"

#include <sys/xattr.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "backup/pgbackrest_error.h"

namespace pgbr::backup {

std::optional<std::string> readCipherTypeXattr(const std::filesystem::path& path) {
  std::array<char, 64> value{};
  const ssize_t size = ::getxattr(path.c_str(), kCipherTypeXattr, value.data(), value.size());
  if (size >= 0) return std::string(value.data(), static_cast<std::size_t>(size));
  const int error = errno;
  if (error == ENODATA || error == ENOTSUP) return std::nullopt;
  if (error == ENOENT)
    throw CommandError(ErrorCode::PathMissing, "repo1-path '" + path.string() + "' does not exist",
                       "create it (owned by the user that runs pgbr), or mount the repository there with pgbrfs");
  throw CommandError(ErrorCode::FileOpen, "unable to read attribute " + std::string(kCipherTypeXattr) + " of '" +
                                              path.string() + "': [" + std::to_string(error) + "] " +
                                              std::strerror(error));
}

crypto::CipherType detectRepoCipherType(const std::filesystem::path& repoPath,
                                        std::optional<crypto::CipherType> configured) {
  const std::optional<std::string> attribute = readCipherTypeXattr(repoPath);
  std::optional<crypto::CipherType> mounted;
  if (attribute) {
    mounted = crypto::parseCipherType(*attribute);
    if (!mounted)
      throw CommandError(ErrorCode::Crypto,
                         "repo1-path '" + repoPath.string() + "' reports unknown cipher type '" + *attribute + "'",
                         "upgrade pgbr to the version of the pgbrfs daemon serving the mount");
  }
  const crypto::CipherType effective = mounted.value_or(crypto::CipherType::None);
  if (configured == crypto::CipherType::Aes256Cbc && effective != crypto::CipherType::Aes256Cbc)
    throw CommandError(ErrorCode::Crypto,
                       "repo1-cipher-type=aes-256-cbc but repo1-path '" + repoPath.string() +
                           "' is not an encrypted pgbrfs mount",
                       "mount the repository with pgbrfs first (pgbrfs -o passfile=FILE BACKING " + repoPath.string() +
                           "): pgbr writes plaintext and relies on the mount to encrypt it\n"
                           "or set repo1-cipher-type=none if the repository is not encrypted");
  return effective;
}

}  // namespace pgbr::backup
