#include "backup/pipeline.h"

#include <stdexcept>
#include <string>

namespace pgbr::backup {

// A stage is a filter with its buffer, or a meter. In push mode a filter's buffer receives its output; in
// pull mode it holds the filter's input, [begin, end) not yet consumed.
struct Pipeline::Stage {
  std::unique_ptr<Filter> filter;
  std::unique_ptr<Meter> meter;
  std::unique_ptr<std::uint8_t[]> buffer;
  std::size_t begin = 0;
  std::size_t end = 0;
  bool upstreamEnded = false;
};

namespace {
[[noreturn]] void throwStalled(const Filter& filter) {
  throw std::logic_error(std::string(filter.name()) + ": filter made no progress");
}
}  // namespace

Pipeline::Pipeline(Sink& sink, std::size_t bufferSize) : sink_(&sink), bufferSize_(bufferSize) {
  if (bufferSize == 0) throw std::invalid_argument("pipeline buffer size must not be zero");
}

Pipeline::Pipeline(Source& source, std::size_t bufferSize) : source_(&source), bufferSize_(bufferSize) {
  if (bufferSize == 0) throw std::invalid_argument("pipeline buffer size must not be zero");
}

Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;
Pipeline::~Pipeline() = default;

std::size_t Pipeline::stageCount() const { return stages_.size(); }

std::size_t Pipeline::bufferBytes() const {
  std::size_t total = 0;
  for (const Stage& stage : stages_)
    if (stage.buffer) total += bufferSize_;
  return total;
}

void Pipeline::add(std::unique_ptr<Filter> filter) {
  if (state_ != State::Building) throw std::logic_error("Pipeline::add after bytes have flowed");
  if (!filter) return;
  Stage stage;
  stage.filter = std::move(filter);
  stage.buffer = std::make_unique<std::uint8_t[]>(bufferSize_);
  stages_.push_back(std::move(stage));
}

void Pipeline::addMeter(std::unique_ptr<Meter> meter) {
  if (state_ != State::Building) throw std::logic_error("Pipeline::add after bytes have flowed");
  if (!meter) throw std::invalid_argument("Pipeline::add: null meter");
  Stage stage;
  stage.meter = std::move(meter);
  stages_.push_back(std::move(stage));
}

void Pipeline::start() {
  if (state_ == State::Building) state_ = State::Running;
  if (state_ == State::Failed) throw std::logic_error("pipeline used after an error");
  if (state_ == State::Ended) throw std::logic_error("pipeline used after its end");
}

// Runs one public operation; any exception leaves the pipeline failed, since a filter may be mid-stream.
template <typename Body>
auto Pipeline::guarded(Body&& body) {
  try {
    return body();
  } catch (...) {
    state_ = State::Failed;
    throw;
  }
}

void Pipeline::write(ByteView data) {
  if (sink_ == nullptr) throw std::logic_error("Pipeline::write on a pull pipeline");
  start();
  guarded([&] { pushFrom(0, data); });
}

void Pipeline::close() {
  if (sink_ == nullptr) throw std::logic_error("Pipeline::close on a pull pipeline");
  start();
  guarded([&] { finishFrom(0); });
  state_ = State::Ended;
}

std::size_t Pipeline::read(MutableByteView out) {
  if (source_ == nullptr) throw std::logic_error("Pipeline::read on a push pipeline");
  if (out.empty()) throw std::invalid_argument("Pipeline::read into an empty buffer");
  if (state_ == State::Ended) return 0;
  start();
  const std::size_t size = guarded([&] { return pullAt(stages_.size(), out); });
  if (size == 0) state_ = State::Ended;
  return size;
}

// Delivers `data` to stage `index` and everything after it, depth first: a filter's output goes downstream
// before the filter is asked for more, so each buffer is reused as soon as it has been passed on.
void Pipeline::pushFrom(std::size_t index, ByteView data) {
  for (std::size_t i = index; i < stages_.size(); i++) {
    Stage& stage = stages_[i];
    if (stage.meter) {
      stage.meter->observe(data);
      continue;
    }
    const MutableByteView buffer(stage.buffer.get(), bufferSize_);
    for (;;) {
      const Filter::Step step = stage.filter->process(data, buffer);
      data = data.subspan(step.consumed);
      if (step.produced != 0)
        pushFrom(i + 1, buffer.first(step.produced));
      else if (data.empty())
        break;  // input consumed and nothing left pending
      else if (step.consumed == 0)
        throwStalled(*stage.filter);
    }
    return;
  }
  if (!data.empty()) sink_->write(data);
}

// Ends the input of stage `index`: drains each filter in order into the stages after it.
void Pipeline::finishFrom(std::size_t index) {
  for (std::size_t i = index; i < stages_.size(); i++) {
    Stage& stage = stages_[i];
    if (stage.meter) continue;
    const MutableByteView buffer(stage.buffer.get(), bufferSize_);
    while (!stage.filter->done()) {
      const std::size_t produced = stage.filter->finish(buffer);
      if (produced != 0)
        pushFrom(i + 1, buffer.first(produced));
      else if (!stage.filter->done())
        throwStalled(*stage.filter);
    }
  }
}

// Fills `out` with bytes as they are after the first `position` stages; 0 only at their end.
std::size_t Pipeline::pullAt(std::size_t position, MutableByteView out) {
  if (position == 0) return source_->read(out);
  Stage& stage = stages_[position - 1];
  if (stage.meter) {
    const std::size_t size = pullAt(position - 1, out);
    stage.meter->observe(out.first(size));
    return size;
  }
  Filter& filter = *stage.filter;
  for (;;) {
    if (stage.upstreamEnded) {
      if (filter.done()) return 0;
      const std::size_t produced = filter.finish(out);
      if (produced == 0 && !filter.done()) throwStalled(filter);
      return produced;
    }
    const ByteView in(stage.buffer.get() + stage.begin, stage.end - stage.begin);
    const Filter::Step step = filter.process(in, out);
    stage.begin += step.consumed;
    if (step.produced != 0) return step.produced;
    if (step.consumed != 0) continue;
    if (!in.empty()) throwStalled(filter);
    // Input used up and nothing pending: refill from upstream (a done decompressor sees any trailing bytes
    // here and throws).
    const std::size_t size = pullAt(position - 1, MutableByteView(stage.buffer.get(), bufferSize_));
    stage.begin = 0;
    stage.end = size;
    stage.upstreamEnded = size == 0;
  }
}

}  // namespace pgbr::backup
