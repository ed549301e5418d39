// A chain of stages (filters that transform, meters that observe) that bytes flow through in order, in
// constant memory: each filter stage owns one fixed buffer, allocated when the stage is added, and nothing
// else grows with the data. Push mode writes into a Sink; pull mode reads from a Source. The builders for
// pgBackRest's write and read paths are in backup/repo_filters.h.
#pragma once

#include <concepts>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "backup/filter.h"
#include "backup/meter.h"
#include "crypto/bytes.h"

namespace pgbr::backup {

// Where a push pipeline delivers its output. write() gets the bytes in pieces (at most the buffer size each
// when the pipeline has a filter) and must not keep the view; it may throw (the pipeline is then failed).
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(ByteView data) = 0;
};

// What a pull pipeline reads from. read() fills a prefix of `out` (out is never empty) and returns its
// length; 0 means the end of the data, after which read() is not called again.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::size_t read(MutableByteView out) = 0;
};

// A Sink that appends to a byte vector: for outputs kept in memory (compressed WAL, gzip'd manifests).
class BytesSink final : public Sink {
 public:
  explicit BytesSink(Bytes& out) : out_(out) {}
  void write(ByteView data) override { out_.insert(out_.end(), data.begin(), data.end()); }

 private:
  Bytes& out_;
};

// Not thread-safe. Stages are added before the first byte flows. Any exception thrown by a stage, the sink
// or the source propagates unchanged (FormatError, crypto::CryptoError, ...) and leaves the pipeline failed:
// later calls throw std::logic_error. Move-only; the Sink/Source must outlive it.
class Pipeline {
 public:
  static constexpr std::size_t kDefaultBufferSize = 256 * 1024;

  // Push mode: write() and close() send the transformed bytes to `sink`.
  explicit Pipeline(Sink& sink, std::size_t bufferSize = kDefaultBufferSize);
  // Pull mode: read() returns the transformed bytes of `source`.
  explicit Pipeline(Source& source, std::size_t bufferSize = kDefaultBufferSize);
  Pipeline(Pipeline&&) noexcept;
  Pipeline& operator=(Pipeline&&) noexcept;
  ~Pipeline();

  // Appends a transform. A null filter appends nothing: a `none` compress type or cipher spec takes the same
  // code path as any other, with no stage. Throws std::logic_error once bytes have flowed.
  void add(std::unique_ptr<Filter> filter);
  // Appends an observer and returns it; it lives as long as the pipeline. Read its value after the end.
  template <std::derived_from<Meter> M>
  M& add(std::unique_ptr<M> meter) {
    M& result = *meter;
    addMeter(std::move(meter));
    return result;
  }

  // Push mode. Transforms `data` and writes what comes out to the sink.
  void write(ByteView data);
  // Push mode. Ends the input: flushes every filter in order and checks each ended cleanly (a truncated
  // compressed stream throws here). Meters are final afterwards.
  void close();

  // Pull mode. Fills a prefix of `out` (must not be empty) and returns its length; 0 at the end, once every
  // filter has ended cleanly. Meters are final after read() returned 0.
  std::size_t read(MutableByteView out);

  // True after close(), or after read() returned 0.
  bool ended() const { return state_ == State::Ended; }
  std::size_t bufferSize() const { return bufferSize_; }
  // The bytes held in pipeline buffers: one buffer per filter, fixed once the stages are added.
  std::size_t bufferBytes() const;
  std::size_t stageCount() const;

 private:
  struct Stage;
  enum class State { Building, Running, Ended, Failed };

  void addMeter(std::unique_ptr<Meter> meter);
  void start();
  template <typename Body>
  auto guarded(Body&& body);
  void pushFrom(std::size_t index, ByteView data);
  void finishFrom(std::size_t index);
  std::size_t pullAt(std::size_t position, MutableByteView out);

  Sink* sink_ = nullptr;
  Source* source_ = nullptr;
  std::size_t bufferSize_;
  std::vector<Stage> stages_;
  State state_ = State::Building;
};

}  // namespace pgbr::backup
