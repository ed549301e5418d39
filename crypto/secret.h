// A passphrase or key held in memory: move-only, wiped on destruction, never printable, kept in locked memory
// left out of core dumps (crypto/locked_memory.h).
// Every repository passphrase and sub-pass lives in one of these from the moment it is read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "crypto/bytes.h"
#include "crypto/locked_memory.h"

namespace pgbr::crypto {

class Secret {
 public:
  Secret() = default;
  // Copies `text`; the caller remains responsible for wiping its own copy (see wipe()).
  explicit Secret(std::string_view text);
  // Takes the characters of `text` and wipes `text`.
  static Secret adopt(std::string& text);

  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret();

  // The secret's bytes, valid while this object lives. Do not log or copy them into unmanaged memory.
  ByteView bytes() const { return asBytes(text_); }
  std::string_view reveal() const { return text_; }
  std::size_t size() const { return text_.size(); }
  bool empty() const { return text_.empty(); }
  Secret clone() const { return Secret(text_); }

  bool operator==(const Secret& other) const;

  // Overwrites a buffer that held secret material so the compiler cannot elide it.
  static void wipe(void* data, std::size_t size);
  static void wipe(std::string& text);

 private:
  // Always on the heap (never in the short-string buffer inside this object) and in locked, undumpable pages.
  using LockedString = std::basic_string<char, std::char_traits<char>, LockedAllocator<char>>;
  LockedString text_;
};

// Deliberately no operator<<: a Secret cannot reach a stream or a log line by accident.
template <typename Stream>
Stream& operator<<(Stream&, const Secret&) = delete;

}  // namespace pgbr::crypto
