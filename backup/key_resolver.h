// Which passphrase encrypts a repository path (FORMAT.md §3): the repository passphrase for archive.info and
// backup.info; the archive sub-pass (from archive.info) under archive/<stanza>/<archive id>/; the backup sub-pass
// (from backup.info) for manifests and backup.history/; the manifest sub-pass of a backup for every other file in
// its directory; the repository passphrase for anything outside the layout. Governing files are read through the
// Storage, decrypted with their own parent key, loaded main-then-.copy, cached, and reloaded when they change.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "backup/storage.h"
#include "crypto/cipher_spec.h"

namespace pgbr::backup {

// The key of a path cannot be known: its governing file is missing, unreadable, corrupt or has no cipher-pass.
class KeyUnavailableError : public std::runtime_error {
 public:
  KeyUnavailableError(const std::string& message, std::string hint)
      : std::runtime_error(message), hint_(std::move(hint)) {}
  const std::string& hint() const noexcept { return hint_; }

 private:
  std::string hint_;
};

// Where a path's key comes from, decided from the path alone.
struct KeyRule {
  enum class Level { Repo, Archive, Backup, Manifest };
  Level level = Level::Repo;
  // The governing file for Archive/Backup/Manifest ("archive/demo/archive.info", "backup/demo/backup.info",
  // "backup/demo/<label>/backup.manifest"); empty for Repo.
  std::string governingFile;
};

class KeyResolver {
 public:
  // `repo` is the repository's own spec (none, or aes-256-cbc with the repository passphrase). `storage` must
  // outlive the resolver. `recheckAfter`: how long a cached governing file is trusted before its size, mtime and
  // inode are compared again (changes made behind our back become visible after at most this long).
  KeyResolver(Storage& storage, crypto::CipherSpec repo,
              std::chrono::milliseconds recheckAfter = std::chrono::milliseconds(1000));

  // The spec that encrypts `path` (repository-relative). A trailing ".pgbackrest.tmp" is ignored: a temporary file
  // has the key of the file it becomes. Thread-safe. Throws KeyUnavailableError.
  crypto::CipherSpec keyFor(const std::string& path);

  // The rule for a path, without I/O.
  static KeyRule ruleFor(const std::string& path);
  // True when `path` (or its .copy / temporary name) is a governing file: info files and manifests.
  static bool isGoverningFile(const std::string& path);

  // `path` was written, renamed or removed: forget what was loaded from it (and what depended on it).
  void invalidate(const std::string& path);

  bool encrypted() const { return repo_.encrypted(); }
  const crypto::CipherSpec& repoSpec() const { return repo_; }

 private:
  struct Signature {
    std::optional<StorageInfo> main, copy;
    bool operator==(const Signature& other) const;
  };
  struct Entry {
    crypto::CipherSpec spec;
    Signature signature;
    std::chrono::steady_clock::time_point checkedAt;
  };

  crypto::CipherSpec governingKey(const KeyRule& rule);
  crypto::CipherSpec load(const KeyRule& rule, const crypto::CipherSpec& parent);
  Signature signatureOf(const std::string& governingFile);

  Storage& storage_;
  crypto::CipherSpec repo_;
  std::chrono::milliseconds recheckAfter_;
  std::mutex mutex_;
  std::map<std::string, Entry> cache_;  // by governing file
};

}  // namespace pgbr::backup
