#include "fs/wal_stream.h"

#include <algorithm>

#include "backup/compress_filter.h"

namespace pgbr::fs {

WalStream::WalStream(backup::CompressType type, int level) : type_(type) {
  if (type == backup::CompressType::Gz) {
    gz_.emplace(level);
    return;
  }
  sha1_ = &pipeline_.add(std::make_unique<backup::Sha1Meter>());  // of the plaintext: added before compression
  if (type != backup::CompressType::None) {
    compressed_.reserve(8u << 20);
    pipeline_.add(backup::newCompressFilter(type, level));
  }
}

void WalStream::feed(const Bytes& content, std::uint64_t end) {
  const ByteView piece = ByteView(content).subspan(fed_, end - fed_);
  if (gz_) {
    sha1Direct_.update(piece);
    fed_ = end;
    gz_->received(ByteView(content).first(fed_));
  } else {
    pipeline_.write(piece);
    fed_ = end;
  }
}

void WalStream::written(const Bytes& content, std::uint64_t offset, std::uint64_t size) {
  if (broken_ || size == 0) return;
  if (offset < fed_) {
    broken_ = true;
    ahead_.clear();
    return;
  }
  std::uint64_t& end = ahead_[offset];
  end = std::max(end, offset + size);
  try {
    while (!ahead_.empty() && ahead_.begin()->first <= fed_) {
      const std::uint64_t rangeEnd = ahead_.begin()->second;
      ahead_.erase(ahead_.begin());
      if (rangeEnd > fed_) feed(content, rangeEnd);
    }
  } catch (...) {
    broken_ = true;  // the full computation at close reports the problem, if any
    ahead_.clear();
  }
}

std::optional<backup::PreparedWal> WalStream::finish(ByteView content) {
  if (broken_ || fed_ != content.size() || !ahead_.empty()) return std::nullopt;
  broken_ = true;  // finished: nothing more can be fed
  try {
    if (gz_) return backup::PreparedWal{sha1Direct_.finishHex(), type_, gz_->finish(content)};
    pipeline_.close();
  } catch (...) {
    return std::nullopt;
  }
  return backup::PreparedWal{sha1_->hex(), type_, std::move(compressed_)};
}

}  // namespace pgbr::fs
