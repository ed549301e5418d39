// bzip2 compression (one stream, block size 100k * level) with libbz2, as pgBackRest writes bz2 files.
#include <bzlib.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "backup/compress_filter.h"
#include "backup/compress_type.h"
#include "backup/filter_support.h"

namespace pgbr::backup {

namespace {

struct Bz2CompressStreamDeleter {
  void operator()(bz_stream* stream) const noexcept {
    BZ2_bzCompressEnd(stream);
    delete stream;
  }
};
using Bz2CompressStream = std::unique_ptr<bz_stream, Bz2CompressStreamDeleter>;

Bz2CompressStream newBz2CompressStream(int level) {
  checkCompressLevel(CompressType::Bz2, level);
  auto stream = std::make_unique<bz_stream>();  // libbz2 keeps a pointer to it: it must not move
  const int rc = BZ2_bzCompressInit(stream.get(), level, 0, 0);
  if (rc == BZ_MEM_ERROR) throw std::bad_alloc();
  if (rc != BZ_OK) throw std::runtime_error("bz2 compress: BZ2_bzCompressInit failed with code " + std::to_string(rc));
  return Bz2CompressStream(stream.release());
}

class Bz2Compress final : public Filter {
 public:
  explicit Bz2Compress(int level) : stream_(newBz2CompressStream(level)) {}

  Step process(ByteView in, MutableByteView out) override {
    if (finishing_) throw std::logic_error("bz2 compress: process after finish");
    if (out.empty()) return {0, 0};
    return compress(in, out, BZ_RUN);
  }

  std::size_t finish(MutableByteView out) override {
    finishing_ = true;
    if (done_ || out.empty()) return 0;
    return compress({}, out, BZ_FINISH).produced;
  }

  bool done() const override { return done_; }
  std::string_view name() const override { return "bz2 compress"; }

 private:
  Step compress(ByteView in, MutableByteView out, int action) {
    const unsigned int inSize = clampToUInt(in.size());
    const unsigned int outSize = clampToUInt(out.size());
    stream_->next_in = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
    stream_->avail_in = inSize;
    stream_->next_out = reinterpret_cast<char*>(out.data());
    stream_->avail_out = outSize;
    const int rc = BZ2_bzCompress(stream_.get(), action);
    if (rc == BZ_STREAM_END) {
      done_ = true;
    } else if (rc == BZ_PARAM_ERROR && action == BZ_RUN && in.empty()) {
      // libbz2 reports "no progress" this way: nothing was pending.
    } else if (rc != BZ_RUN_OK && rc != BZ_FINISH_OK) {
      throw std::runtime_error("bz2 compress: BZ2_bzCompress failed with code " + std::to_string(rc));
    }
    return {inSize - stream_->avail_in, outSize - stream_->avail_out};
  }

  Bz2CompressStream stream_;
  bool finishing_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Filter> newBz2Compress(int level) { return std::make_unique<Bz2Compress>(level); }

}  // namespace pgbr::backup
