#include "unit/backup/filter_test_util.h"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace pgbr::backup::test {

Bytes runFilter(Filter& filter, ByteView input, std::size_t inChunk, std::size_t outChunk, std::size_t outputLimit) {
  Bytes output;
  Bytes buffer(outChunk);
  auto take = [&](std::size_t produced) {
    output.insert(output.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(produced));
    if (output.size() > outputLimit) throw std::logic_error(std::string(filter.name()) + ": runaway output");
  };
  std::size_t offset = 0;
  for (;;) {
    const ByteView in = input.subspan(offset, std::min(inChunk, input.size() - offset));
    const Filter::Step step = filter.process(in, buffer);
    if (step.consumed > in.size() || step.produced > buffer.size())
      throw std::logic_error(std::string(filter.name()) + ": step out of bounds");
    offset += step.consumed;
    take(step.produced);
    if (step.consumed == 0 && step.produced == 0) {
      if (!in.empty()) throw std::logic_error(std::string(filter.name()) + ": no progress");
      break;
    }
  }
  while (!filter.done()) {
    const std::size_t produced = filter.finish(buffer);
    if (produced > buffer.size()) throw std::logic_error(std::string(filter.name()) + ": finish out of bounds");
    if (produced == 0 && !filter.done()) throw std::logic_error(std::string(filter.name()) + ": finish stalled");
    take(produced);
  }
  return output;
}

Bytes runFilter(std::unique_ptr<Filter> filter, ByteView input, std::size_t inChunk, std::size_t outChunk) {
  return runFilter(*filter, input, inChunk, outChunk);
}

void VectorSink::write(ByteView data) {
  largestWrite = std::max(largestWrite, data.size());
  bytes.insert(bytes.end(), data.begin(), data.end());
  if (bytes.size() > limit_) throw std::logic_error("sink: runaway output");
}

void CountingSink::write(ByteView data) {
  largestWrite = std::max(largestWrite, data.size());
  size += data.size();
  writes++;
}

std::size_t SpanSource::read(MutableByteView out) {
  if (endSeen) readsAfterEnd++;
  const std::size_t size = std::min({out.size(), maxRead_, data_.size() - offset_});
  std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset_), size, out.begin());
  offset_ += size;
  if (size == 0) endSeen = true;
  return size;
}

void pushAll(Pipeline& pipeline, ByteView input, std::size_t writeChunk) {
  for (std::size_t offset = 0; offset < input.size(); offset += writeChunk)
    pipeline.write(input.subspan(offset, std::min(writeChunk, input.size() - offset)));
  pipeline.close();
}

Bytes pullAll(Pipeline& pipeline, std::size_t readChunk) {
  Bytes output;
  Bytes buffer(readChunk);
  for (std::size_t size; (size = pipeline.read(buffer)) != 0;) {
    if (size > buffer.size()) throw std::logic_error("pipeline read out of bounds");
    output.insert(output.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size));
  }
  return output;
}

Bytes mixedBytes(std::size_t size, std::uint32_t seed) {
  static constexpr std::string_view kWords[] = {"pgbackrest ", "stanza ",  "manifest ", "archive ", "0000000100",
                                                "repo ",       "backup ",  "label ",    "wal ",     "\n"};
  std::mt19937 engine(seed);
  auto next = [&engine] { return static_cast<std::uint32_t>(engine()); };
  Bytes out;
  out.reserve(size);
  while (out.size() < size) {
    switch (next() % 4) {
      case 0:  // words
        for (std::uint32_t i = 0, n = 1 + next() % 40; i < n; i++) {
          const std::string_view word = kWords[next() % std::size(kWords)];
          out.insert(out.end(), word.begin(), word.end());
        }
        break;
      case 1:  // random stretch
        for (std::uint32_t i = 0, n = 1 + next() % 300; i < n; i++) out.push_back(static_cast<std::uint8_t>(next()));
        break;
      case 2:  // zeros
        out.insert(out.end(), 1 + next() % 2000, 0);
        break;
      default:  // repeat of earlier bytes
        if (!out.empty()) {
          const std::size_t from = next() % out.size();
          const std::size_t length = std::min<std::size_t>(1 + next() % 500, out.size() - from);
          for (std::size_t i = 0; i < length; i++) out.push_back(out[from + i]);
        }
    }
  }
  out.resize(size);
  return out;
}

}  // namespace pgbr::backup::test
