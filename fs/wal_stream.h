// The SHA-1 and compression of a file written into the WAL inbox, computed while its bytes arrive: writes that
// extend the part already fed are fed at once (in the FUSE write handler, overlapping the kernel's copy of the next
// request), writes ahead of it wait as ranges until the gap is filled (the writeback cache may deliver them out of
// order). gz, the default, is deflated in parts on other threads as they complete (backup::GzParts), so both cores
// compress while the segment arrives. close() then only finishes the stream. A write into the part already fed
// breaks the stream (the inbox then hashes and compresses the whole content at close, as before).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "backup/archive_push.h"
#include "backup/compress_type.h"
#include "backup/gz_parts.h"
#include "backup/meter.h"
#include "backup/pipeline.h"
#include "crypto/sha1.h"

namespace pgbr::fs {

class WalStream {
 public:
  WalStream(backup::CompressType type, int level);
  WalStream(const WalStream&) = delete;
  WalStream& operator=(const WalStream&) = delete;

  // Bytes [offset, offset + size) of `content` were just written. The bytes fed so far (below fed()) are read by
  // other threads until finish() or destruction: `content` must not move, and they must not change (destroy the
  // stream before a write below fed()).
  void written(const Bytes& content, std::uint64_t offset, std::uint64_t size);
  std::uint64_t fed() const { return fed_; }
  // The SHA-1 and compressed bytes when exactly `content` was fed, in order and unchanged; nullopt otherwise. Ends
  // the stream.
  std::optional<backup::PreparedWal> finish(ByteView content);

 private:
  // Collects the compressed bytes; drops the output of a stream without compression (the content itself).
  class Collect final : public backup::Sink {
   public:
    Collect(Bytes& out, bool keep) : out_(out), keep_(keep) {}
    void write(ByteView data) override {
      if (keep_) out_.insert(out_.end(), data.begin(), data.end());
    }

   private:
    Bytes& out_;
    bool keep_;
  };

  void feed(const Bytes& content, std::uint64_t end);

  backup::CompressType type_;
  std::optional<backup::GzParts> gz_;   // gz: SHA-1 here, deflate in parts on other threads
  crypto::Sha1 sha1Direct_;
  Bytes compressed_;                    // other types: SHA-1 and compression through one pipeline
  Collect sink_{compressed_, type_ != backup::CompressType::None};
  backup::Pipeline pipeline_{sink_};
  backup::Sha1Meter* sha1_ = nullptr;
  std::uint64_t fed_ = 0;
  std::map<std::uint64_t, std::uint64_t> ahead_;  // written ranges beyond fed_: start -> end
  bool broken_ = false;
};

}  // namespace pgbr::fs
