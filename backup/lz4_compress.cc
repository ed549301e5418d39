// lz4 compression in the lz4 frame format (LZ4F_* API), as pgBackRest writes lz4 files: default 64 KiB
// blocks, content checksum on (off in raw mode). LZ4F needs room for a whole compressed piece, so output goes
// straight to the caller's buffer when it is large enough and through a fixed staging area when not.
#include <lz4frame.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "backup/compress_filter.h"
#include "backup/compress_type.h"
#include "backup/filter_support.h"

namespace pgbr::backup {

namespace {

constexpr std::size_t kPieceSize = 64 * 1024;  // input per LZ4F_compressUpdate call

struct Lz4CompressContextDeleter {
  void operator()(LZ4F_cctx* context) const noexcept { LZ4F_freeCompressionContext(context); }
};
using Lz4CompressContext = std::unique_ptr<LZ4F_cctx, Lz4CompressContextDeleter>;

std::size_t checkLz4(std::size_t result, const char* call) {
  if (LZ4F_isError(result))
    throw std::runtime_error(std::string("lz4 compress: ") + call + " failed: " + LZ4F_getErrorName(result));
  return result;
}

LZ4F_preferences_t preferences(int level, bool contentChecksum) {
  checkCompressLevel(CompressType::Lz4, level);
  LZ4F_preferences_t prefs{};
  prefs.compressionLevel = level;
  prefs.frameInfo.contentChecksumFlag = contentChecksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  return prefs;
}

class Lz4Compress final : public Filter {
 public:
  Lz4Compress(int level, bool contentChecksum)
      : prefs_(preferences(level, contentChecksum)),
        pending_(std::max<std::size_t>(LZ4F_HEADER_SIZE_MAX, LZ4F_compressBound(kPieceSize, &prefs_))) {
    LZ4F_cctx* context = nullptr;
    checkLz4(LZ4F_createCompressionContext(&context, LZ4F_VERSION), "LZ4F_createCompressionContext");
    context_.reset(context);
    const MutableByteView space = pending_.space();
    pending_.fill(checkLz4(LZ4F_compressBegin(context_.get(), space.data(), space.size(), &prefs_),
                           "LZ4F_compressBegin"));
  }

  Step process(ByteView in, MutableByteView out) override {
    if (ended_) throw std::logic_error("lz4 compress: process after finish");
    Step step{0, pending_.drain(out)};
    out = out.subspan(step.produced);
    if (!pending_.empty() || in.empty() || out.empty()) return step;
    const std::size_t take = std::min(in.size(), kPieceSize);
    if (out.size() >= LZ4F_compressBound(take, &prefs_)) {
      step.produced += checkLz4(
          LZ4F_compressUpdate(context_.get(), out.data(), out.size(), in.data(), take, nullptr), "LZ4F_compressUpdate");
    } else {
      const MutableByteView space = pending_.space();
      pending_.fill(checkLz4(
          LZ4F_compressUpdate(context_.get(), space.data(), space.size(), in.data(), take, nullptr),
          "LZ4F_compressUpdate"));
      step.produced += pending_.drain(out);
    }
    step.consumed = take;
    return step;
  }

  std::size_t finish(MutableByteView out) override {
    if (!ended_) {
      if (!pending_.empty()) return pending_.drain(out);
      const MutableByteView space = pending_.space();
      pending_.fill(checkLz4(LZ4F_compressEnd(context_.get(), space.data(), space.size(), nullptr), "LZ4F_compressEnd"));
      ended_ = true;
    }
    return pending_.drain(out);
  }

  bool done() const override { return ended_ && pending_.empty(); }
  std::string_view name() const override { return "lz4 compress"; }

 private:
  LZ4F_preferences_t prefs_;
  Lz4CompressContext context_;
  PendingOutput pending_;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<Filter> newLz4Compress(int level, bool contentChecksum) {
  return std::make_unique<Lz4Compress>(level, contentChecksum);
}

}  // namespace pgbr::backup
