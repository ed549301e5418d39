// zstd decompression (streaming ZSTD_decompressStream), which writes at most the caller's buffer per call.
// Like pgBackRest it reads one or more frames and requires the input to end on a frame boundary. Window sizes
// are limited to zstd's default (128 MiB), which bounds memory for any input.
#include <zstd.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "backup/backup_error.h"
#include "backup/compress_filter.h"

namespace pgbr::backup {

namespace {

// zstd's default limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT, in its experimental section): 1 << 27 = 128 MiB.
constexpr int kWindowLogMax = 27;

struct ZstdDecompressContextDeleter {
  void operator()(ZSTD_DCtx* context) const noexcept { ZSTD_freeDCtx(context); }
};
using ZstdDecompressContext = std::unique_ptr<ZSTD_DCtx, ZstdDecompressContextDeleter>;

ZstdDecompressContext newZstdDecompressContext() {
  ZstdDecompressContext context(ZSTD_createDCtx());
  if (!context) throw std::bad_alloc();
  if (const std::size_t rc = ZSTD_DCtx_setParameter(context.get(), ZSTD_d_windowLogMax, kWindowLogMax);
      ZSTD_isError(rc))
    throw std::runtime_error(std::string("zst decompress: ZSTD_DCtx_setParameter failed: ") + ZSTD_getErrorName(rc));
  return context;
}

class ZstDecompress final : public Filter {
 public:
  ZstDecompress() : context_(newZstdDecompressContext()) {}

  Step process(ByteView in, MutableByteView out) override {
    if (done_) throw std::logic_error("zst decompress: process after finish");
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
  std::string_view name() const override { return "zst decompress"; }

 private:
  Step decompress(ByteView in, MutableByteView out) {
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    ZSTD_outBuffer output{out.data(), out.size(), 0};
    const std::size_t rc = ZSTD_decompressStream(context_.get(), &output, &input);
    if (ZSTD_isError(rc))
      throw corruptStreamError(name(), std::string("invalid data (") + ZSTD_getErrorName(rc) + ")");
    // 0 means a frame is complete and flushed; a call that moved nothing says nothing new about frames.
    if (input.pos != 0 || output.pos != 0) frameDone_ = rc == 0;
    return {input.pos, output.pos};
  }

  ZstdDecompressContext context_;
  bool frameDone_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Filter> newZstDecompress() { return std::make_unique<ZstDecompress>(); }

}  // namespace pgbr::backup
