// zstd compression (streaming ZSTD_compressStream2), frames as pgBackRest writes them: level only, no
// checksum, content size unknown. ZSTD writes at most the caller's buffer and keeps the rest in its context.
#include <zstd.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "backup/compress_filter.h"
#include "backup/compress_type.h"

namespace pgbr::backup {

namespace {

struct ZstdCompressContextDeleter {
  void operator()(ZSTD_CCtx* context) const noexcept { ZSTD_freeCCtx(context); }
};
using ZstdCompressContext = std::unique_ptr<ZSTD_CCtx, ZstdCompressContextDeleter>;

std::size_t checkZstd(std::size_t result, const char* call) {
  if (ZSTD_isError(result))
    throw std::runtime_error(std::string("zst compress: ") + call + " failed: " + ZSTD_getErrorName(result));
  return result;
}

ZstdCompressContext newZstdCompressContext(int level) {
  checkCompressLevel(CompressType::Zst, level);
  ZstdCompressContext context(ZSTD_createCCtx());
  if (!context) throw std::bad_alloc();
  checkZstd(ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel, level), "ZSTD_CCtx_setParameter");
  return context;
}

class ZstCompress final : public Filter {
 public:
  explicit ZstCompress(int level) : context_(newZstdCompressContext(level)) {}

  Step process(ByteView in, MutableByteView out) override {
    if (finishing_) throw std::logic_error("zst compress: process after finish");
    if (out.empty()) return {0, 0};
    return compress(in, out, ZSTD_e_continue);
  }

  std::size_t finish(MutableByteView out) override {
    finishing_ = true;
    if (done_ || out.empty()) return 0;
    return compress({}, out, ZSTD_e_end).produced;
  }

  bool done() const override { return done_; }
  std::string_view name() const override { return "zst compress"; }

 private:
  Step compress(ByteView in, MutableByteView out, ZSTD_EndDirective directive) {
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    ZSTD_outBuffer output{out.data(), out.size(), 0};
    const std::size_t remaining = checkZstd(ZSTD_compressStream2(context_.get(), &output, &input, directive),
                                            "ZSTD_compressStream2");
    if (directive == ZSTD_e_end && remaining == 0) done_ = true;
    return {input.pos, output.pos};
  }

  ZstdCompressContext context_;
  bool finishing_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Filter> newZstCompress(int level) { return std::make_unique<ZstCompress>(level); }

}  // namespace pgbr::backup
