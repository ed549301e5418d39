#include "fs/plain_size_cache.h"

namespace pgbr::fs {

namespace {
bool same(const struct timespec& a, const struct timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }
}  // namespace

std::optional<std::uint64_t> PlainSizeCache::find(const std::string& path, const struct stat& st) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(path);
  if (it == entries_.end()) return std::nullopt;
  const Entry& e = it->second;
  if (e.inode != st.st_ino || e.cipherSize != st.st_size || !same(e.mtime, st.st_mtim) || !same(e.ctime, st.st_ctim))
    return std::nullopt;
  return e.plainSize;
}

void PlainSizeCache::store(const std::string& path, const struct stat& st, std::uint64_t plainSize) {
  std::lock_guard lock(mutex_);
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[path] = Entry{st.st_ino, st.st_size, st.st_mtim, st.st_ctim, plainSize};
}

void PlainSizeCache::forget(const std::string& path) {
  std::lock_guard lock(mutex_);
  entries_.erase(path);
}

void PlainSizeCache::forgetTree(const std::string& path) {
  std::lock_guard lock(mutex_);
  const std::string prefix = path + "/";
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->first == path || it->first.starts_with(prefix) ? entries_.erase(it) : std::next(it);
}

}  // namespace pgbr::fs
