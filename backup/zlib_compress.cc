// zlib compression (RFC 1950: 2-byte header, deflate, Adler-32), the stream pgBackRest writes for "raw" gz in
// bundles and block incremental (FORMAT.md §6, header 78 9c at level 6). zlib's deflate with pgBackRest's
// parameters (window 15, memLevel 9).
#include <zlib.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "backup/compress_filter.h"
#include "backup/compress_type.h"
#include "backup/filter_support.h"

namespace pgbr::backup {

namespace {

constexpr int kWindowBits = 15;
constexpr int kMemLevel = 9;

struct DeflateStreamDeleter {
  void operator()(z_stream* stream) const noexcept {
    deflateEnd(stream);
    delete stream;
  }
};
using DeflateStream = std::unique_ptr<z_stream, DeflateStreamDeleter>;

DeflateStream newDeflateStream(int level) {
  checkCompressLevel(CompressType::Gz, level);
  auto stream = std::make_unique<z_stream>();  // zlib keeps a pointer to it: it must not move
  const int rc = deflateInit2(stream.get(), level, Z_DEFLATED, kWindowBits, kMemLevel, Z_DEFAULT_STRATEGY);
  if (rc == Z_MEM_ERROR) throw std::bad_alloc();
  if (rc != Z_OK) throw std::runtime_error("zlib compress: deflateInit2 failed with code " + std::to_string(rc));
  return DeflateStream(stream.release());
}

class ZlibCompress final : public Filter {
 public:
  explicit ZlibCompress(int level) : stream_(newDeflateStream(level)) {}

  Step process(ByteView in, MutableByteView out) override {
    if (finishing_) throw std::logic_error("zlib compress: process after finish");
    return deflate(in, out, Z_NO_FLUSH);
  }

  std::size_t finish(MutableByteView out) override {
    finishing_ = true;
    if (done_) return 0;
    return deflate({}, out, Z_FINISH).produced;
  }

  bool done() const override { return done_; }
  std::string_view name() const override { return "zlib compress"; }

 private:
  Step deflate(ByteView in, MutableByteView out, int flush) {
    const unsigned int inSize = clampToUInt(in.size());
    const unsigned int outSize = clampToUInt(out.size());
    stream_->next_in = const_cast<Bytef*>(in.data());
    stream_->avail_in = inSize;
    stream_->next_out = out.data();
    stream_->avail_out = outSize;
    const int rc = ::deflate(stream_.get(), flush);
    // Z_BUF_ERROR only says no progress was possible (nothing to do); the pipeline sees {0, 0}.
    if (rc == Z_STREAM_END)
      done_ = true;
    else if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw std::runtime_error("zlib compress: deflate failed with code " + std::to_string(rc));
    return {inSize - stream_->avail_in, outSize - stream_->avail_out};
  }

  DeflateStream stream_;
  bool finishing_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Filter> newZlibCompress(int level) { return std::make_unique<ZlibCompress>(level); }

}  // namespace pgbr::backup
