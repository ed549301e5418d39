// Passive observers in a byte pipeline: they see the bytes flowing at their position without copying or
// changing them. pgBackRest records two of them per stored file (FORMAT.md §5, §6): the SHA-1 and size of the
// plain bytes (manifest `checksum`, `size`) and of the repository bytes (`rck`, `repo-size`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/bytes.h"
#include "crypto/sha1.h"

namespace pgbr::backup {

// Not thread-safe. observe() must not keep the view.
class Meter {
 public:
  virtual ~Meter() = default;
  virtual void observe(ByteView data) = 0;
  virtual std::string_view name() const = 0;
};

class Sha1Meter final : public Meter {
 public:
  void observe(ByteView data) override;
  std::string_view name() const override { return "sha1"; }
  // Lowercase hex of everything observed. The first call ends the hash; observing afterwards throws
  // std::logic_error. Read it once the stream has ended.
  const std::string& hex();

 private:
  crypto::Sha1 sha_;
  std::optional<std::string> hex_;
};

class SizeMeter final : public Meter {
 public:
  void observe(ByteView data) override { size_ += data.size(); }
  std::string_view name() const override { return "size"; }
  std::uint64_t size() const { return size_; }

 private:
  std::uint64_t size_ = 0;
};

}  // namespace pgbr::backup
