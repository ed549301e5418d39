// zlib decompression (RFC 1950), for pgBackRest's "raw" gz in bundles and block incremental (FORMAT.md §6).
// Reads exactly one stream and verifies its Adler-32; anything after it is an error.
#include <zlib.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "backup/backup_error.h"
#include "backup/compress_filter.h"
#include "backup/filter_support.h"

namespace pgbr::backup {

namespace {

constexpr int kWindowBits = 15;

struct InflateStreamDeleter {
  void operator()(z_stream* stream) const noexcept {
    inflateEnd(stream);
    delete stream;
  }
};
using InflateStream = std::unique_ptr<z_stream, InflateStreamDeleter>;

InflateStream newInflateStream() {
  auto stream = std::make_unique<z_stream>();  // zlib keeps a pointer to it: it must not move
  const int rc = inflateInit2(stream.get(), kWindowBits);
  if (rc == Z_MEM_ERROR) throw std::bad_alloc();
  if (rc != Z_OK) throw std::runtime_error("zlib decompress: inflateInit2 failed with code " + std::to_string(rc));
  return InflateStream(stream.release());
}

class ZlibDecompress final : public Filter {
 public:
  ZlibDecompress() : stream_(newInflateStream()) {}

  Step process(ByteView in, MutableByteView out) override {
    if (done_) {
      if (!in.empty()) throw trailingDataError(name());
      return {0, 0};
    }
    const Step step = inflate(in, out);
    if (done_ && step.consumed < in.size()) throw trailingDataError(name());
    return step;
  }

  std::size_t finish(MutableByteView out) override {
    if (done_) return 0;
    const std::size_t produced = inflate({}, out).produced;
    if (produced == 0 && !done_) throw truncatedStreamError(name());
    return produced;
  }

  bool done() const override { return done_; }
  std::string_view name() const override { return "zlib decompress"; }

 private:
  Step inflate(ByteView in, MutableByteView out) {
    const unsigned int inSize = clampToUInt(in.size());
    const unsigned int outSize = clampToUInt(out.size());
    stream_->next_in = const_cast<Bytef*>(in.data());
    stream_->avail_in = inSize;
    stream_->next_out = out.data();
    stream_->avail_out = outSize;
    switch (const int rc = ::inflate(stream_.get(), Z_NO_FLUSH)) {
      case Z_OK:
      case Z_BUF_ERROR:  // no progress possible: needs more input or more room
        break;
      case Z_STREAM_END:
        done_ = true;
        break;
      case Z_NEED_DICT:
        throw corruptStreamError(name(), "stream needs a preset dictionary (not pgBackRest data)");
      case Z_DATA_ERROR:
        throw corruptStreamError(name(), std::string("invalid data (") +
                                             (stream_->msg != nullptr ? stream_->msg : "corrupt stream") + ")");
      case Z_MEM_ERROR:
        throw std::bad_alloc();
      default:
        throw std::runtime_error("zlib decompress: inflate failed with code " + std::to_string(rc));
    }
    return {inSize - stream_->avail_in, outSize - stream_->avail_out};
  }

  InflateStream stream_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Filter> newZlibDecompress() { return std::make_unique<ZlibDecompress>(); }

}  // namespace pgbr::backup
