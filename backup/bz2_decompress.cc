// bzip2 decompression with libbz2. Reads exactly one stream, as pgBackRest does, and verifies its CRCs;
// anything after it is an error.
#include <bzlib.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "backup/backup_error.h"
#include "backup/compress_filter.h"
#include "backup/filter_support.h"

namespace pgbr::backup {

namespace {

struct Bz2DecompressStreamDeleter {
  void operator()(bz_stream* stream) const noexcept {
    BZ2_bzDecompressEnd(stream);
    delete stream;
  }
};
using Bz2DecompressStream = std::unique_ptr<bz_stream, Bz2DecompressStreamDeleter>;

Bz2DecompressStream newBz2DecompressStream() {
  auto stream = std::make_unique<bz_stream>();  // libbz2 keeps a pointer to it: it must not move
  const int rc = BZ2_bzDecompressInit(stream.get(), 0, 0);
  if (rc == BZ_MEM_ERROR) throw std::bad_alloc();
  if (rc != BZ_OK)
    throw std::runtime_error("bz2 decompress: BZ2_bzDecompressInit failed with code " + std::to_string(rc));
  return Bz2DecompressStream(stream.release());
}

class Bz2Decompress final : public Filter {
 public:
  Bz2Decompress() : stream_(newBz2DecompressStream()) {}

  Step process(ByteView in, MutableByteView out) override {
    if (done_) {
      if (!in.empty()) throw trailingDataError(name());
      return {0, 0};
    }
    if (out.empty()) return {0, 0};
    const Step step = decompress(in, out);
    if (done_ && step.consumed < in.size()) throw trailingDataError(name());
    return step;
  }

  std::size_t finish(MutableByteView out) override {
    if (done_) return 0;
    const std::size_t produced = out.empty() ? 0 : decompress({}, out).produced;
    if (produced == 0 && !done_) throw truncatedStreamError(name());
    return produced;
  }

  bool done() const override { return done_; }
  std::string_view name() const override { return "bz2 decompress"; }

 private:
  Step decompress(ByteView in, MutableByteView out) {
    const unsigned int inSize = clampToUInt(in.size());
    const unsigned int outSize = clampToUInt(out.size());
    stream_->next_in = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
    stream_->avail_in = inSize;
    stream_->next_out = reinterpret_cast<char*>(out.data());
    stream_->avail_out = outSize;
    switch (const int rc = BZ2_bzDecompress(stream_.get())) {
      case BZ_OK:
        break;
      case BZ_STREAM_END:
        done_ = true;
        break;
      case BZ_DATA_ERROR_MAGIC:
        throw corruptStreamError(name(), "invalid bzip2 header (not bzip2 data?)");
      case BZ_DATA_ERROR:
        throw corruptStreamError(name(), "invalid data or checksum mismatch (corrupt data)");
      case BZ_MEM_ERROR:
        throw std::bad_alloc();
      default:
        throw std::runtime_error("bz2 decompress: BZ2_bzDecompress failed with code " + std::to_string(rc));
    }
    return {inSize - stream_->avail_in, outSize - stream_->avail_out};
  }

  Bz2DecompressStream stream_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Filter> newBz2Decompress() { return std::make_unique<Bz2Decompress>(); }

}  // namespace pgbr::backup
