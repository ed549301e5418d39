// lz4 frame decompression (LZ4F_decompress), which writes at most the caller's buffer per call and keeps the
// rest of a block inside its context. Like pgBackRest it reads one or more frames and requires the input to
// end on a frame boundary; content and block checksums are verified when the frame has them.
#include <lz4frame.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "backup/backup_error.h"
#include "backup/compress_filter.h"

namespace pgbr::backup {

namespace {

struct Lz4DecompressContextDeleter {
  void operator()(LZ4F_dctx* context) const noexcept { LZ4F_freeDecompressionContext(context); }
};
using Lz4DecompressContext = std::unique_ptr<LZ4F_dctx, Lz4DecompressContextDeleter>;

class Lz4Decompress final : public Filter {
 public:
  Lz4Decompress() {
    LZ4F_dctx* context = nullptr;
    if (const std::size_t rc = LZ4F_createDecompressionContext(&context, LZ4F_VERSION); LZ4F_isError(rc))
      throw std::runtime_error(std::string("lz4 decompress: LZ4F_createDecompressionContext failed: ") +
                               LZ4F_getErrorName(rc));
    context_.reset(context);
  }

  Step process(ByteView in, MutableByteView out) override {
    if (done_) throw std::logic_error("lz4 decompress: process after finish");
    if (out.empty()) return {0, 0};
    return decompress(in, out);
  }

  std::size_t finish(MutableByteView out) override {
    if (done_ || out.empty()) return 0;
    const std::size_t produced = decompress({}, out).produced;
    if (produced != 0) return produced;
    if (!frameDone_) throw truncatedStreamError(name());
    done_ = true;
    return 0;
  }

  bool done() const override { return done_; }
  std::string_view name() const override { return "lz4 decompress"; }

 private:
  Step decompress(ByteView in, MutableByteView out) {
    static const std::uint8_t empty = 0;
    std::size_t consumed = in.size();
    std::size_t produced = out.size();
    const std::size_t rc = LZ4F_decompress(context_.get(), out.data(), &produced, in.empty() ? &empty : in.data(),
                                           &consumed, nullptr);
    if (LZ4F_isError(rc))
      throw corruptStreamError(name(), std::string("invalid data (") + LZ4F_getErrorName(rc) + ")");
    // 0 means a frame is complete and flushed; a call that moved nothing says nothing new about frames.
    if (consumed != 0 || produced != 0) frameDone_ = rc == 0;
    return {consumed, produced};
  }

  Lz4DecompressContext context_;
  bool frameDone_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Filter> newLz4Decompress() { return std::make_unique<Lz4Decompress>(); }

}  // namespace pgbr::backup
