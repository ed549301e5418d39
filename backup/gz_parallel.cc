#include "backup/gz_parallel.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "backup/compress_filter.h"
#include "backup/compress_type.h"

namespace pgbr::backup {

namespace {

constexpr std::array<std::uint32_t, 4> kLevelBufSize{ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                                     ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
constexpr std::size_t kDictionary = 32 * 1024;  // deflate's window
// Below this a part's thread costs more than it saves.
constexpr std::size_t kMinPart = 1024 * 1024;

struct Part {
  ByteView input;
  ByteView dictionary;
  bool last = false;
  Bytes output;
  std::uint32_t crc = 0;
};

// Raw deflate of one part; throws std::runtime_error on an ISA-L error.
void deflatePart(Part& part, int isalLevel) {
  isal_zstream stream;
  isal_deflate_init(&stream);
  stream.level = static_cast<std::uint32_t>(isalLevel);
  std::unique_ptr<std::uint8_t[]> levelBuf;
  if (const std::uint32_t size = kLevelBufSize[static_cast<std::size_t>(isalLevel)]; size != 0) {
    levelBuf = std::make_unique<std::uint8_t[]>(size);
    stream.level_buf = levelBuf.get();
    stream.level_buf_size = size;
  }
  stream.gzip_flag = IGZIP_DEFLATE;
  if (!part.dictionary.empty() &&
      isal_deflate_set_dict(&stream, const_cast<std::uint8_t*>(part.dictionary.data()),
                            static_cast<std::uint32_t>(part.dictionary.size())) != COMP_OK)
    throw std::runtime_error("gz compress: unable to set the deflate dictionary");
  static std::uint8_t empty = 0;  // ISA-L wants a non-null next_in; it never writes through it
  stream.next_in = part.input.empty() ? &empty : const_cast<std::uint8_t*>(part.input.data());
  stream.avail_in = static_cast<std::uint32_t>(part.input.size());
  stream.end_of_stream = part.last ? 1 : 0;
  stream.flush = part.last ? NO_FLUSH : SYNC_FLUSH;
  part.output.resize(part.input.size() + part.input.size() / 16 + 64 * 1024);
  std::size_t used = 0;
  for (;;) {
    stream.next_out = part.output.data() + used;
    stream.avail_out = static_cast<std::uint32_t>(part.output.size() - used);
    if (const int rc = isal_deflate(&stream); rc != COMP_OK)
      throw std::runtime_error("gz compress: isal_deflate failed with code " + std::to_string(rc));
    used = part.output.size() - stream.avail_out;
    const bool complete = stream.avail_in == 0 && (part.last ? stream.internal_state.state == ZSTATE_END
                                                               : stream.internal_state.state == ZSTATE_NEW_HDR);
    if (complete) break;
    part.output.resize(part.output.size() * 2);  // incompressible input needs a little more room
  }
  part.output.resize(used);
  part.crc = crc32_gzip_refl(0, part.input.data(), part.input.size());
}

void putLe32(Bytes& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

}  // namespace

Bytes gzipParallel(ByteView data, int level, unsigned threads) {
  checkCompressLevel(CompressType::Gz, level);
  const int isalLevel = gzIsalLevel(level);
  const std::size_t count = std::clamp<std::size_t>(data.size() / kMinPart, 1, std::max(1u, threads));
  std::vector<Part> parts(count);
  const std::size_t partSize = data.size() / count;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t begin = i * partSize, end = i + 1 == count ? data.size() : begin + partSize;
    parts[i].input = data.subspan(begin, end - begin);
    parts[i].dictionary = data.subspan(begin - std::min(begin, kDictionary), std::min(begin, kDictionary));
    parts[i].last = i + 1 == count;
  }
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(count);
  for (std::size_t i = 1; i < count; ++i)
    workers.emplace_back([&, i] {
      try {
        deflatePart(parts[i], isalLevel);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  try {
    deflatePart(parts[0], isalLevel);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (std::thread& worker : workers) worker.join();
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);

  // The header newGzCompress writes (pgBackRest's: mtime 0, zlib's XFL for the level, OS Unix).
  const std::uint8_t xfl = level == 9 ? 2 : level < 2 ? 4 : 0;
  Bytes out{0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, xfl, 0x03};
  std::size_t total = out.size() + 8;
  for (const Part& part : parts) total += part.output.size();
  out.reserve(total);
  std::uint32_t crc = 0;
  for (const Part& part : parts) {
    out.insert(out.end(), part.output.begin(), part.output.end());
    crc = static_cast<std::uint32_t>(crc32_combine(crc, part.crc, static_cast<z_off_t>(part.input.size())));
  }
  putLe32(out, crc);
  putLe32(out, static_cast<std::uint32_t>(data.size()));
  return out;
}

}  // namespace pgbr::backup
