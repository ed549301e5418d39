// Compression benchmark: gz with ISA-L (our filter, pgBackRest level mapped onto ISA-L's) against zlib at the
// same nominal level, as pgBackRest 2.45 writes it; ISA-L vs zlib inflate; lz4, zst and bz2 for reference.
// Inputs: the 16 MiB WAL segment fixture (idle: nearly all zeros), a synthetic 16 MiB PostgreSQL-heap-like
// file and a synthetic busy WAL segment made from it. Plain std::chrono
// timer, best of N runs; prints tables. Usage: bench_compress [runs] (default 3).
#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "backup/compress_filter.h"
#include "backup/pipeline.h"
#include "crypto/bytes.h"

namespace {

using pgbr::Bytes;
using pgbr::ByteView;
using pgbr::MutableByteView;
namespace backup = pgbr::backup;

constexpr std::size_t kMiB = 1024 * 1024;
constexpr std::size_t kChunk = 256 * 1024;

int runs = 3;

double bestSeconds(const std::function<void()>& body) {
  double best = 1e30;
  for (int i = 0; i < runs; i++) {
    const auto start = std::chrono::steady_clock::now();
    body();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best;
}

double mbPerSecond(std::size_t bytes, double seconds) { return static_cast<double>(bytes) / 1e6 / seconds; }

class VectorSink final : public backup::Sink {
 public:
  explicit VectorSink(Bytes& out) : out_(out) {}
  void write(ByteView data) override { out_.insert(out_.end(), data.begin(), data.end()); }

 private:
  Bytes& out_;
};

class CountingSink final : public backup::Sink {
 public:
  void write(ByteView data) override { size += data.size(); }
  std::size_t size = 0;
};

// Runs `filter` over `input` through a push pipeline, in 256 KiB writes.
Bytes runFilter(std::unique_ptr<backup::Filter> filter, ByteView input) {
  Bytes out;
  out.reserve(input.size() / 2);
  VectorSink sink(out);
  backup::Pipeline pipeline(sink);
  pipeline.add(std::move(filter));
  for (std::size_t i = 0; i < input.size(); i += kChunk)
    pipeline.write(input.subspan(i, std::min(kChunk, input.size() - i)));
  pipeline.close();
  return out;
}

std::size_t countFilter(std::unique_ptr<backup::Filter> filter, ByteView input) {
  CountingSink sink;
  backup::Pipeline pipeline(sink);
  pipeline.add(std::move(filter));
  for (std::size_t i = 0; i < input.size(); i += kChunk)
    pipeline.write(input.subspan(i, std::min(kChunk, input.size() - i)));
  pipeline.close();
  return sink.size;
}

// zlib gzip exactly as pgBackRest 2.45 sets it up: deflateInit2(level, Z_DEFLATED, 15 + 16, 9, default).
Bytes zlibGzip(ByteView input, int level) {
  z_stream stream{};
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  Bytes out(deflateBound(&stream, static_cast<uLong>(input.size())));
  stream.next_in = const_cast<Bytef*>(input.data());
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::size_t zlibGunzip(ByteView gz) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2");
  std::vector<std::uint8_t> buffer(kChunk);
  stream.next_in = const_cast<Bytef*>(gz.data());
  stream.avail_in = static_cast<uInt>(gz.size());
  std::size_t total = 0;
  for (int rc = Z_OK; rc != Z_STREAM_END;) {
    stream.next_out = buffer.data();
    stream.avail_out = static_cast<uInt>(buffer.size());
    rc = inflate(&stream, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) throw std::runtime_error("inflate");
    total += buffer.size() - stream.avail_out;
  }
  inflateEnd(&stream);
  return total;
}

// ISA-L at one of its own levels, one shot, to show all four (our filter maps pgBackRest levels onto them).
std::size_t isalGzipSize(ByteView input, std::uint32_t level) {
  static constexpr std::uint32_t kLevelBuf[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
                                                ISAL_DEF_LVL3_DEFAULT};
  auto stream = std::make_unique<isal_zstream>();
  isal_deflate_init(stream.get());
  std::vector<std::uint8_t> levelBuf(kLevelBuf[level] + 1);
  stream->level = level;
  stream->level_buf = levelBuf.data();
  stream->level_buf_size = kLevelBuf[level];
  stream->gzip_flag = IGZIP_GZIP;
  stream->end_of_stream = 1;
  Bytes out(input.size() + input.size() / 8 + 1024);
  stream->next_in = const_cast<std::uint8_t*>(input.data());
  stream->avail_in = static_cast<std::uint32_t>(input.size());
  stream->next_out = out.data();
  stream->avail_out = static_cast<std::uint32_t>(out.size());
  if (isal_deflate(stream.get()) != COMP_OK || stream->internal_state.state != ZSTATE_END)
    throw std::runtime_error("isal_deflate");
  return out.size() - stream->avail_out;
}

Bytes readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("unable to open '" + path + "'");
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// 8 KiB pages shaped like PostgreSQL heap pages: a page header, a line pointer array, free space (zeros) and
// tuples from the end. Most pages hold pgbench_accounts-like rows (ints and a blank-padded filler), some
// hold order-like rows with words, timestamps and amounts, a few are nearly empty. Deterministic.
Bytes syntheticHeap(std::size_t size) {
  constexpr std::size_t kPage = 8192;
  static const char* const kWords[] = {"alpha", "shipped", "pending", "customer", "warehouse", "priority",
                                       "express", "returned", "invoice", "berlin", "paris", "lisbon",
                                       "standard", "gift", "fragile", "north", "south", "credit", "debit"};
  std::mt19937 engine(20261128);
  auto rng = [&engine] { return static_cast<std::uint32_t>(engine()); };
  Bytes heap(size, 0);
  std::uint32_t aid = 1;
  std::uint32_t xmin = 750;
  for (std::size_t page = 0; page * kPage < size; page++) {
    std::uint8_t* p = heap.data() + page * kPage;
    auto put16 = [](std::uint8_t* at, std::uint32_t v) {
      at[0] = static_cast<std::uint8_t>(v);
      at[1] = static_cast<std::uint8_t>(v >> 8);
    };
    auto put32 = [&](std::uint8_t* at, std::uint32_t v) {
      put16(at, v & 0xffff);
      put16(at + 2, v >> 16);
    };
    const std::uint32_t kind = rng() % 10;
    std::size_t upper = kPage;
    std::size_t count = 0;
    const std::size_t maxTuples = kind == 9 ? 3 : 200;
    while (count < maxTuples) {
      std::uint8_t tuple[256] = {};
      std::size_t length = 24;  // heap tuple header incl. alignment
      put32(tuple, xmin);
      put16(tuple + 10, static_cast<std::uint32_t>(page & 0xffff));
      put16(tuple + 14, static_cast<std::uint32_t>(count + 1));
      put16(tuple + 18, 4);
      put16(tuple + 20, 0x0902);
      tuple[22] = 24;
      if (kind < 6) {  // pgbench_accounts: aid, bid, abalance, filler char(84)
        put32(tuple + length, aid);
        put32(tuple + length + 4, aid / 100000 + 1);
        put32(tuple + length + 8, rng() % 8 == 0 ? rng() % 10000 : 0);
        length += 12;
        tuple[length++] = 0xab;
        std::memset(tuple + length, ' ', 84);
        length += 84;
      } else {  // orders: id, customer, timestamp, amount, free text
        put32(tuple + length, aid);
        put32(tuple + length + 4, rng() % 5000);
        const std::uint64_t ts = 820000000000000ull + aid * 1000003ull + rng() % 1000;
        put32(tuple + length + 8, static_cast<std::uint32_t>(ts));
        put32(tuple + length + 12, static_cast<std::uint32_t>(ts >> 32));
        put32(tuple + length + 16, rng() % 100000);
        length += 20;
        const std::size_t textStart = length++;
        const int words = 2 + static_cast<int>(rng() % 6);
        for (int w = 0; w < words; w++) {
          const char* word = kWords[rng() % std::size(kWords)];
          const std::size_t wordLength = std::strlen(word);
          std::memcpy(tuple + length, word, wordLength);
          length += wordLength;
          tuple[length++] = ' ';
        }
        tuple[textStart] = static_cast<std::uint8_t>(((length - textStart) << 1) | 1);
      }
      length = (length + 7) & ~std::size_t{7};
      if (upper - length < 24 + 4 * (count + 1)) break;
      upper -= length;
      std::memcpy(p + upper, tuple, length);
      const std::uint32_t itemId = static_cast<std::uint32_t>(upper) | (1u << 15) |
                                   (static_cast<std::uint32_t>(length) << 17);
      put32(p + 24 + 4 * count, itemId);
      count++;
      aid++;
      if (rng() % 50 == 0) xmin++;
    }
    const std::uint64_t lsn = 0x16B3000ull + page * 0x2000ull;
    put32(p, static_cast<std::uint32_t>(lsn >> 32));
    put32(p + 4, static_cast<std::uint32_t>(lsn));
    put16(p + 8, rng() & 0xffff);  // page checksum
    put16(p + 12, static_cast<std::uint32_t>(24 + 4 * count));
    put16(p + 14, static_cast<std::uint32_t>(upper));
    put16(p + 16, kPage);
    put16(p + 18, 0x2004);
  }
  return heap;
}

// A busy WAL segment: 8 KiB WAL pages (page header, records continued across pages) holding small heap
// insert/update records (24-byte record header with a CRC, a block reference, tuple bytes) and, after each
// simulated checkpoint, full-page images of heap pages with their hole removed. Built from `heap`.
Bytes syntheticWal(std::size_t size, const Bytes& heap) {
  constexpr std::size_t kWalPage = 8192;
  constexpr std::size_t kHeapPage = 8192;
  std::mt19937 engine(15);
  auto rng = [&engine] { return static_cast<std::uint32_t>(engine()); };
  Bytes records;
  records.reserve(size + kHeapPage * 2);
  std::uint64_t lsn = 0x3000028;
  std::uint32_t xid = 760;
  auto append = [&records](const void* data, std::size_t length) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    records.insert(records.end(), bytes, bytes + length);
  };
  const std::size_t heapPages = heap.size() / kHeapPage;
  while (records.size() < size + kWalPage) {
    const std::size_t page = rng() % heapPages;
    const std::uint8_t* heapPage = heap.data() + page * kHeapPage;
    const bool fullPage = rng() % 100 < 12;
    std::uint8_t header[24 + 20] = {};
    const std::uint16_t lower = static_cast<std::uint16_t>(heapPage[12] | (heapPage[13] << 8));
    const std::uint16_t upper = static_cast<std::uint16_t>(heapPage[14] | (heapPage[15] << 8));
    const std::size_t payload = fullPage ? lower + (kHeapPage - upper) : 40 + rng() % 100;
    const std::uint32_t total = static_cast<std::uint32_t>(sizeof(header) + payload);
    std::memcpy(header, &total, 4);
    std::memcpy(header + 4, &xid, 4);
    std::memcpy(header + 8, &lsn, 8);
    header[16] = fullPage ? 0x10 : 0x00;
    header[17] = 10;  // heap resource manager
    const std::uint32_t crc = rng();
    std::memcpy(header + 20, &crc, 4);
    header[24] = 0;  // block id
    header[25] = fullPage ? 0x10 : 0x20;
    const std::uint32_t block = static_cast<std::uint32_t>(page);
    std::memcpy(header + 32, &block, 4);
    append(header, sizeof(header));
    if (fullPage) {
      append(heapPage, lower);
      append(heapPage + upper, kHeapPage - upper);
    } else {
      append(heapPage + kHeapPage - payload - (rng() % 512), payload);
    }
    while (records.size() % 8 != 0) records.push_back(0);
    lsn += total;
    if (rng() % 4 == 0) xid++;
  }
  Bytes wal(size, 0);
  std::size_t from = 0;
  for (std::size_t page = 0; page * kWalPage < size; page++) {
    std::uint8_t* p = wal.data() + page * kWalPage;
    const std::uint16_t magic = 0xD110;
    std::memcpy(p, &magic, 2);
    const std::uint64_t pageAddress = 0x3000000ull + page * kWalPage;
    std::memcpy(p + 8, &pageAddress, 8);
    const std::size_t headerSize = page == 0 ? 40 : 24;
    std::memcpy(p + headerSize, records.data() + from, kWalPage - headerSize);
    from += kWalPage - headerSize;
  }
  return wal;
}

void benchInput(const char* label, const Bytes& input) {
  const ByteView in(input);
  std::printf("\n== %s: %.1f MiB\n", label, static_cast<double>(input.size()) / kMiB);

  std::printf("\ngz compress, pgBackRest level -> ISA-L level (our filter) vs zlib at the same level (pgBackRest 2.45)\n");
  std::printf("%5s %5s | %10s %10s %7s | %10s %10s %7s | %9s %9s\n", "level", "isal", "isal MB/s", "isal size",
              "ratio", "zlib MB/s", "zlib size", "ratio", "size i/z", "speed i/z");
  for (int level = 0; level <= 9; level++) {
    std::size_t isalSize = 0;
    const double isalTime = bestSeconds([&] { isalSize = countFilter(backup::newGzCompress(level), in); });
    std::size_t zlibSize = 0;
    const double zlibTime = bestSeconds([&] { zlibSize = zlibGzip(in, level).size(); });
    std::printf("%5d %5d | %10.1f %10zu %7.2f | %10.1f %10zu %7.2f | %9.3f %9.2f\n", level,
                backup::gzIsalLevel(level), mbPerSecond(input.size(), isalTime), isalSize,
                static_cast<double>(input.size()) / static_cast<double>(isalSize), mbPerSecond(input.size(), zlibTime),
                zlibSize, static_cast<double>(input.size()) / static_cast<double>(zlibSize),
                static_cast<double>(isalSize) / static_cast<double>(zlibSize), zlibTime / isalTime);
  }

  std::printf("\nISA-L's own levels (one shot, for the mapping)\n%5s | %10s %10s %7s\n", "isal", "MB/s", "size",
              "ratio");
  for (std::uint32_t level = 0; level <= 3; level++) {
    std::size_t size = 0;
    const double time = bestSeconds([&] { size = isalGzipSize(in, level); });
    std::printf("%5u | %10.1f %10zu %7.2f\n", level, mbPerSecond(input.size(), time), size,
                static_cast<double>(input.size()) / static_cast<double>(size));
  }

  std::printf("\ngz inflate (MB/s of output): ISA-L (our filter) vs zlib inflate\n%-22s | %10s %10s %9s\n", "stream",
              "isal", "zlib", "isal/zlib");
  const Bytes zlib6 = zlibGzip(in, 6);
  const Bytes isal6 = runFilter(backup::newGzCompress(6), in);
  const std::pair<const char*, const Bytes*> streams[] = {{"zlib level 6 output", &zlib6},
                                                          {"isal level 6 output", &isal6}};
  for (const auto& [name, stream] : streams) {
    std::size_t isalOut = 0;
    std::size_t zlibOut = 0;
    const double isalTime = bestSeconds([&] { isalOut = countFilter(backup::newGzDecompress(), *stream); });
    const double zlibTime = bestSeconds([&] { zlibOut = zlibGunzip(*stream); });
    if (isalOut != input.size() || zlibOut != input.size()) throw std::runtime_error("inflate size mismatch");
    std::printf("%-22s | %10.1f %10.1f %9.2f\n", name, mbPerSecond(input.size(), isalTime),
                mbPerSecond(input.size(), zlibTime), zlibTime / isalTime);
  }

  std::printf("\nother types at pgBackRest's default level (our filters)\n%-8s | %10s %10s %7s | %12s\n", "type",
              "comp MB/s", "size", "ratio", "decomp MB/s");
  struct Other {
    const char* name;
    std::function<std::unique_ptr<backup::Filter>()> compress;
    std::function<std::unique_ptr<backup::Filter>()> decompress;
  };
  const Other others[] = {
      {"lz4 1", [] { return backup::newLz4Compress(1); }, [] { return backup::newLz4Decompress(); }},
      {"zst 3", [] { return backup::newZstCompress(3); }, [] { return backup::newZstDecompress(); }},
      {"bz2 9", [] { return backup::newBz2Compress(9); }, [] { return backup::newBz2Decompress(); }},
      {"gz 6", [] { return backup::newGzCompress(6); }, [] { return backup::newGzDecompress(); }},
  };
  for (const Other& other : others) {
    Bytes compressed;
    const double compressTime = bestSeconds([&] { compressed = runFilter(other.compress(), in); });
    std::size_t plainSize = 0;
    const double decompressTime = bestSeconds([&] { plainSize = countFilter(other.decompress(), compressed); });
    if (plainSize != input.size()) throw std::runtime_error("round trip size mismatch");
    std::printf("%-8s | %10.1f %10zu %7.2f | %12.1f\n", other.name, mbPerSecond(input.size(), compressTime),
                compressed.size(), static_cast<double>(input.size()) / static_cast<double>(compressed.size()),
                mbPerSecond(input.size(), decompressTime));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) runs = std::max(1, std::atoi(argv[1]));
  try {
    const Bytes wal = readFile(std::string(PGBR_FIXTURES_DIR) +
                               "/pgbackrest-2.45/plaintext/repo-enc/archive/demo/15-1/0000000100000000/"
                               "000000010000000000000003-a9857f3e4a10e6faa1dc1476950a83d86b370060");
    std::printf("bench_compress: best of %d run(s); MB = 10^6 bytes of plain data per second\n", runs);
    benchInput("WAL segment 000000010000000000000003 (fixture; an idle segment, all zeros after 344 bytes)", wal);
    const Bytes heap = syntheticHeap(16 * kMiB);
    benchInput("synthetic heap pages", heap);
    benchInput("synthetic busy WAL segment (heap records and full-page images)", syntheticWal(16 * kMiB, heap));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_compress: %s\n", error.what());
    return 1;
  }
  return 0;
}
