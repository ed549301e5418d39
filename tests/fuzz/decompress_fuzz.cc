// One decompressor of backup/compress_filter.h, chosen at compile time (PGBR_FUZZ_CODEC = Gz, Lz4, Zst, Bz2 or
// Zlib, see CMakeLists.txt), driven through the Filter interface with input pieces and output buffers of every
// size. It must end in success or a FormatError, keep the Filter contract (progress on every call, output within
// the buffer), and never need more than bounded memory (libFuzzer's -rss_limit_mb catches the rest).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "backup/backup_error.h"
#include "backup/compress_filter.h"
#include "backup/format_error.h"
#include "crypto/bytes.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

std::unique_ptr<pgbr::backup::Filter> newDecompressor() {
#define PGBR_FUZZ_NEW(codec) pgbr::backup::new##codec##Decompress()
#define PGBR_FUZZ_EXPAND(codec) PGBR_FUZZ_NEW(codec)
  return PGBR_FUZZ_EXPAND(PGBR_FUZZ_CODEC);
}

// A decompression bomb is legitimate data; stop reading it here rather than spend the run on it.
constexpr std::uint64_t kOutputCap = 4ULL * 1024 * 1024;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const pgbr::ByteView in(data, size);
  pgbr::fuzz::Chunker chunker(pgbr::fuzz::seedOf(data, size));
  const std::unique_ptr<pgbr::backup::Filter> filter = newDecompressor();
  static std::uint8_t out[65536];
  std::uint64_t produced = 0;
  try {
    std::size_t offset = 0;
    while (offset < in.size() && produced < kOutputCap) {
      const std::size_t piece = chunker.next(in.size() - offset);
      const std::size_t outSize = chunker.next(sizeof(out));
      const auto step = filter->process(in.subspan(offset, piece), pgbr::MutableByteView(out, outSize));
      pgbr::fuzz::check(step.consumed <= piece && step.produced <= outSize, "process() beyond its buffers");
      pgbr::fuzz::check(step.consumed > 0 || step.produced > 0, "process() made no progress");
      offset += step.consumed;
      produced += step.produced;
    }
    if (produced >= kOutputCap) return 0;
    for (int idle = 0; !filter->done() && produced < kOutputCap;) {
      const std::size_t outSize = chunker.next(sizeof(out));
      const std::size_t written = filter->finish(pgbr::MutableByteView(out, outSize));
      pgbr::fuzz::check(written <= outSize, "finish() beyond its buffer");
      // finish() must write something or end; tolerate a few empty calls, never an endless loop.
      idle = written == 0 ? idle + 1 : 0;
      pgbr::fuzz::check(idle < 3, "finish() makes no progress");
      produced += written;
    }
  } catch (const pgbr::backup::FormatError&) {
  } catch (const pgbr::backup::UnsupportedError&) {
  }
  return 0;
}
