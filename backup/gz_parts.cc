#include "backup/gz_parts.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <memory>
#include <stdexcept>
#include <string>

#include "backup/compress_filter.h"
#include "backup/compress_type.h"

namespace pgbr::backup {

namespace {

constexpr std::array<std::uint32_t, 4> kLevelBufSize{ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                                     ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
constexpr std::size_t kWindow = 32 * 1024;  // deflate's dictionary
// An empty fixed-Huffman block with BFINAL set: what zlib writes for Z_FINISH after a sync flush.
constexpr std::array<std::uint8_t, 2> kEmptyFinalBlock{0x03, 0x00};

// Raw deflate of `input` with `dictionary` before it, ended by a sync flush (byte-aligned, not final). Runs on the
// pool's threads, each keeping its ISA-L level buffer and output scratch: fresh memory per part (page faults, a new
// malloc arena per new thread) cost more than the deflate itself.
Bytes deflatePart(ByteView dictionary, ByteView input, int isalLevel) {
  thread_local std::unique_ptr<std::uint8_t[]> levelBuf;  // uninitialized on purpose: ISA-L sets up what it uses
  thread_local std::size_t levelBufSize = 0;
  thread_local std::unique_ptr<std::uint8_t[]> out;
  thread_local std::size_t capacity = 0;
  isal_zstream stream;
  isal_deflate_init(&stream);
  stream.level = static_cast<std::uint32_t>(isalLevel);
  if (const std::uint32_t size = kLevelBufSize[static_cast<std::size_t>(isalLevel)]; size != 0) {
    if (levelBufSize < size) {
      levelBuf.reset(new std::uint8_t[size]);
      levelBufSize = size;
    }
    stream.level_buf = levelBuf.get();
    stream.level_buf_size = size;
  }
  stream.gzip_flag = IGZIP_DEFLATE;
  if (!dictionary.empty() &&
      isal_deflate_set_dict(&stream, const_cast<std::uint8_t*>(dictionary.data()),
                            static_cast<std::uint32_t>(dictionary.size())) != COMP_OK)
    throw std::runtime_error("gz compress: unable to set the deflate dictionary");
  static std::uint8_t empty = 0;  // ISA-L wants a non-null next_in; it never writes through it
  stream.next_in = input.empty() ? &empty : const_cast<std::uint8_t*>(input.data());
  stream.avail_in = static_cast<std::uint32_t>(input.size());
  stream.end_of_stream = 0;
  stream.flush = SYNC_FLUSH;
  // Deflate output of incompressible input is at most a little larger than the input; grown if ever needed.
  const std::size_t bound = input.size() + input.size() / 16 + 1024;
  if (capacity < bound) {
    out.reset(new std::uint8_t[bound]);
    capacity = bound;
  }
  std::size_t used = 0;
  for (;;) {
    stream.next_out = out.get() + used;
    stream.avail_out = static_cast<std::uint32_t>(capacity - used);
    if (const int rc = isal_deflate(&stream); rc != COMP_OK)
      throw std::runtime_error("gz compress: isal_deflate failed with code " + std::to_string(rc));
    used = capacity - stream.avail_out;
    if (stream.avail_in == 0 && stream.internal_state.state == ZSTATE_NEW_HDR) break;
    std::unique_ptr<std::uint8_t[]> larger(new std::uint8_t[capacity * 2]);
    std::copy_n(out.get(), used, larger.get());
    out = std::move(larger);
    capacity *= 2;
  }
  return Bytes(out.get(), out.get() + used);
}

// Threads that deflate parts, one per core (2 to 4), started on first use and kept for the life of the process.
class PartPool {
 public:
  static PartPool& instance() {
    static PartPool* pool = new PartPool();  // never destroyed: its threads may outlive static destruction
    return *pool;
  }
  void run(std::packaged_task<void()> task) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
    }
    ready_.notify_one();
  }

 private:
  PartPool() {
    // Four are enough to keep up with a segment arriving through FUSE; each keeps ~2.5 MiB of buffers.
    const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 2u, 4u);
    for (unsigned i = 0; i < threads; ++i) std::thread([this] { work(); }).detach();
  }
  void work() {
    for (;;) {
      std::packaged_task<void()> task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<void()>> queue_;
};

void putLe32(Bytes& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

}  // namespace

GzParts::GzParts(int level, std::size_t partSize)
    : level_(level), isalLevel_((checkCompressLevel(CompressType::Gz, level), gzIsalLevel(level))),
      partSize_(std::max<std::size_t>(partSize, kWindow)) {}

GzParts::~GzParts() { waitAll(); }

void GzParts::waitAll() noexcept {
  for (std::future<Part>& part : parts_)
    if (part.valid()) part.wait();
}

void GzParts::start(ByteView content, std::size_t end) {
  const ByteView input = content.subspan(started_, end - started_);
  const ByteView dictionary = content.subspan(started_ - std::min(started_, kWindow), std::min(started_, kWindow));
  const int isalLevel = isalLevel_;
  auto part = std::make_shared<std::promise<Part>>();
  parts_.push_back(part->get_future());
  PartPool::instance().run(std::packaged_task<void()>([part, input, dictionary, isalLevel] {
    try {
      Part done;
      done.deflated = deflatePart(dictionary, input, isalLevel);
      done.crc = crc32_gzip_refl(0, input.data(), input.size());
      done.size = input.size();
      part->set_value(std::move(done));
    } catch (...) {
      part->set_exception(std::current_exception());
    }
  }));
  started_ = end;
}

void GzParts::received(ByteView content) {
  while (content.size() - started_ >= partSize_) start(content, started_ + partSize_);
}

Bytes GzParts::finish(ByteView content) {
  received(content);
  if (content.size() > started_) start(content, content.size());
  // The header newGzCompress writes (pgBackRest's: mtime 0, zlib's XFL for the level, OS Unix).
  const std::uint8_t xfl = level_ == 9 ? 2 : level_ < 2 ? 4 : 0;
  Bytes out{0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, xfl, 0x03};
  std::uint32_t crc = 0;
  try {
    for (std::future<Part>& future : parts_) {
      const Part part = future.get();
      out.insert(out.end(), part.deflated.begin(), part.deflated.end());
      crc = static_cast<std::uint32_t>(crc32_combine(crc, part.crc, static_cast<z_off_t>(part.size)));
    }
  } catch (...) {
    waitAll();
    throw;
  }
  parts_.clear();
  out.insert(out.end(), kEmptyFinalBlock.begin(), kEmptyFinalBlock.end());
  putLe32(out, crc);
  putLe32(out, static_cast<std::uint32_t>(content.size()));
  return out;
}

}  // namespace pgbr::backup
