// Plaintext sizes of backing files, remembered by path and checked against the backing file's inode, size and
// times, so `ls -l` of a large repository decrypts each file's last two blocks once, not on every stat.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace pgbr::fs {

class PlainSizeCache {
 public:
  // The cached plain size for a backing file with these attributes, if still valid.
  std::optional<std::uint64_t> find(const std::string& path, const struct stat& st);
  void store(const std::string& path, const struct stat& st, std::uint64_t plainSize);
  void forget(const std::string& path);
  // Forgets `path` and everything below it (a directory was renamed or removed).
  void forgetTree(const std::string& path);

 private:
  struct Entry {
    ino_t inode;
    off_t cipherSize;
    struct timespec mtime;
    struct timespec ctime;
    std::uint64_t plainSize;
  };
  static constexpr std::size_t kMaxEntries = 1 << 20;  // bounded memory: cleared when full
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace pgbr::fs
