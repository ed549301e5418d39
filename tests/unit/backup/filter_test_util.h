// Helpers for the backup/ filter and pipeline tests: drive a Filter by hand with chosen chunk sizes (checking
// its progress contract), collect pipeline output, serve bytes as a Source, and make test data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "backup/filter.h"
#include "backup/pipeline.h"
#include "crypto/bytes.h"

namespace pgbr::backup::test {

// Feeds `input` to `filter` at most `inChunk` bytes per call, giving it `outChunk` bytes of room per call,
// then finishes it. Throws std::logic_error if the filter breaks the progress contract (no progress, or
// output beyond `outputLimit`), so a misbehaving filter fails a test instead of hanging it.
Bytes runFilter(Filter& filter, ByteView input, std::size_t inChunk, std::size_t outChunk,
                std::size_t outputLimit = std::size_t{1} << 30);
Bytes runFilter(std::unique_ptr<Filter> filter, ByteView input, std::size_t inChunk = 65536,
                std::size_t outChunk = 65536);

// Collects everything; remembers the largest single write and fails past `limit` bytes.
class VectorSink final : public Sink {
 public:
  explicit VectorSink(std::size_t limit = std::size_t{1} << 30) : limit_(limit) {}
  void write(ByteView data) override;
  Bytes bytes;
  std::size_t largestWrite = 0;

 private:
  std::size_t limit_;
};

// Counts without keeping anything (for large outputs).
class CountingSink final : public Sink {
 public:
  void write(ByteView data) override;
  std::uint64_t size = 0;
  std::size_t largestWrite = 0;
  std::size_t writes = 0;
};

// Serves `data` in pieces of at most `maxRead` bytes.
class SpanSource final : public Source {
 public:
  explicit SpanSource(ByteView data, std::size_t maxRead = std::size_t{1} << 30) : data_(data), maxRead_(maxRead) {}
  std::size_t read(MutableByteView out) override;
  bool endSeen = false;
  std::size_t readsAfterEnd = 0;

 private:
  ByteView data_;
  std::size_t maxRead_;
  std::size_t offset_ = 0;
};

// Push pipeline helper: writes `input` in `writeChunk` pieces and closes.
void pushAll(Pipeline& pipeline, ByteView input, std::size_t writeChunk);
// Pull pipeline helper: reads everything with `readChunk`-byte reads.
Bytes pullAll(Pipeline& pipeline, std::size_t readChunk);

// Compressible but not trivial: runs of text-like records, repeats and random stretches. Deterministic.
Bytes mixedBytes(std::size_t size, std::uint32_t seed);

}  // namespace pgbr::backup::test
