#include "fs/wal_plain_cache.h"

namespace pgbr::fs {

std::shared_ptr<const Bytes> WalPlainCache::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first != key) continue;
    entries_.splice(entries_.begin(), entries_, it);
    return entries_.front().second;
  }
  return nullptr;
}

void WalPlainCache::store(const std::string& key, std::shared_ptr<const Bytes> plain) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->first == key) {
      entries_.erase(it);
      break;
    }
  entries_.emplace_front(key, std::move(plain));
  while (entries_.size() > capacity_) entries_.pop_back();
}

std::size_t WalPlainCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace pgbr::fs
