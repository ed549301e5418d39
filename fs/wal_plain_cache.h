// The last few archived WAL files the lookup view decompressed and verified, by stored file: a restore_command's
// `cp MOUNT/archive/<stanza>/<name> %p` stats, opens and reads the name, and each of those must not decompress the
// segment again. Small and bounded (a 16 MiB segment per entry); least recently used goes first.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "crypto/bytes.h"

namespace pgbr::fs {

class WalPlainCache {
 public:
  explicit WalPlainCache(std::size_t capacity) : capacity_(capacity) {}

  // The plaintext stored under `key`, or nullptr; a hit becomes the most recently used entry.
  std::shared_ptr<const Bytes> find(const std::string& key);
  void store(const std::string& key, std::shared_ptr<const Bytes> plain);
  std::size_t size() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<std::pair<std::string, std::shared_ptr<const Bytes>>> entries_;  // most recently used first
};

}  // namespace pgbr::fs
