// gz compression with Intel ISA-L: streaming isal_deflate producing one gzip member whose header is
// pgBackRest's (FORMAT.md §6), written by isal_write_gzip_header; ISA-L adds the CRC-32/ISIZE trailer.
#include <isa-l/igzip_lib.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include "backup/compress_filter.h"
#include "backup/compress_type.h"
#include "backup/filter_support.h"

namespace pgbr::backup {

namespace {

constexpr std::uint32_t kOsUnix = 3;
constexpr std::size_t kGzipHeaderSize = 10;

// The level buffer ISA-L needs for each of its levels (level 0 needs none).
constexpr std::array<std::uint32_t, 4> kIsalLevelBufSize{ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                                         ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};

// zlib's XFL byte for a level, so the header matches what pgBackRest (zlib) writes at the same level.
std::uint32_t gzipExtraFlags(int level) {
  if (level == 9) return 2;
  if (level < 2) return 4;
  return 0;
}

class GzCompress final : public Filter {
 public:
  explicit GzCompress(int level)
      : stream_(std::make_unique<isal_zstream>()), header_(kGzipHeaderSize) {
    checkCompressLevel(CompressType::Gz, level);
    const int isalLevel = gzIsalLevel(level);
    isal_deflate_init(stream_.get());
    stream_->level = static_cast<std::uint32_t>(isalLevel);
    const std::uint32_t levelBufSize = kIsalLevelBufSize[static_cast<std::size_t>(isalLevel)];
    if (levelBufSize != 0) {
      levelBuf_ = std::make_unique<std::uint8_t[]>(levelBufSize);
      stream_->level_buf = levelBuf_.get();
      stream_->level_buf_size = levelBufSize;
    }
    // ISA-L's own header says OS "unknown"; write pgBackRest's instead and let ISA-L add only the trailer.
    stream_->gzip_flag = IGZIP_GZIP_NO_HDR;
    isal_gzip_header header;
    isal_gzip_header_init(&header);
    header.time = 0;
    header.os = kOsUnix;
    header.xflags = gzipExtraFlags(level);
    const MutableByteView space = header_.space();
    stream_->next_out = space.data();
    stream_->avail_out = static_cast<std::uint32_t>(space.size());
    if (isal_write_gzip_header(stream_.get(), &header) != 0)
      throw std::logic_error("gz compress: gzip header does not fit");
    header_.fill(space.size() - stream_->avail_out);
  }

  Step process(ByteView in, MutableByteView out) override {
    if (finishing_) throw std::logic_error("gz compress: process after finish");
    Step step{0, header_.drain(out)};
    out = out.subspan(step.produced);
    if (out.empty() || (in.empty() && step.produced != 0)) return step;
    const Step deflated = deflate(in, out, false);
    return {deflated.consumed, step.produced + deflated.produced};
  }

  std::size_t finish(MutableByteView out) override {
    finishing_ = true;
    std::size_t produced = header_.drain(out);
    out = out.subspan(produced);
    if (out.empty() || done()) return produced;
    return produced + deflate({}, out, true).produced;
  }

  bool done() const override { return header_.empty() && stream_->internal_state.state == ZSTATE_END; }
  std::string_view name() const override { return "gz compress"; }

 private:
  // One isal_deflate call; `end` says the input is complete (ISA-L then writes the final block and trailer).
  Step deflate(ByteView in, MutableByteView out, bool end) {
    static std::uint8_t empty = 0;  // ISA-L wants a non-null next_in; it never writes through it
    const unsigned int inSize = clampToUInt(in.size());
    const unsigned int outSize = clampToUInt(out.size());
    stream_->next_in = in.empty() ? &empty : const_cast<std::uint8_t*>(in.data());
    stream_->avail_in = inSize;
    stream_->next_out = out.data();
    stream_->avail_out = outSize;
    stream_->end_of_stream = end ? 1 : 0;
    stream_->flush = NO_FLUSH;
    if (const int rc = isal_deflate(stream_.get()); rc != COMP_OK)
      throw std::runtime_error("gz compress: isal_deflate failed with code " + std::to_string(rc));
    return {inSize - stream_->avail_in, outSize - stream_->avail_out};
  }

  std::unique_ptr<isal_zstream> stream_;
  std::unique_ptr<std::uint8_t[]> levelBuf_;
  PendingOutput header_;
  bool finishing_ = false;
};

}  // namespace

int gzIsalLevel(int level) {
  checkCompressLevel(CompressType::Gz, level);
  if (level <= 1) return level;
  if (level <= 5) return 2;
  return 3;
}

std::unique_ptr<Filter> newGzCompress(int level) { return std::make_unique<GzCompress>(level); }

}  // namespace pgbr::backup
