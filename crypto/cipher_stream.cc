#include "crypto/cipher_stream.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pgbr::crypto {

namespace {
std::variant<CipherBlockEncryptor, CipherBlockDecryptor> makeEngine(CipherStream::Mode mode, const Secret& pass,
                                                                    CipherHeaderKind header) {
  if (mode == CipherStream::Mode::Encrypt) {
    if (header != CipherHeaderKind::Salted) throw std::invalid_argument("raw cipher headers are read, never written");
    return std::variant<CipherBlockEncryptor, CipherBlockDecryptor>(std::in_place_index<0>, pass);
  }
  return std::variant<CipherBlockEncryptor, CipherBlockDecryptor>(std::in_place_index<1>, pass, header);
}

// The largest output either engine can write for `inputSize` bytes of input.
constexpr std::size_t maxOutput(std::size_t inputSize) { return CipherBlockEncryptor::maxUpdateOutput(inputSize); }
}  // namespace

CipherStream::CipherStream(Mode mode, const Secret& pass, CipherHeaderKind header)
    : engine_(makeEngine(mode, pass, header)) {}

std::size_t CipherStream::drainPending(MutableByteView out) {
  const std::size_t take = std::min(out.size(), pendingSize_ - pendingOffset_);
  std::memcpy(out.data(), pending_.data() + pendingOffset_, take);
  pendingOffset_ += take;
  if (pendingOffset_ == pendingSize_) pendingOffset_ = pendingSize_ = 0;
  return take;
}

CipherStream::Step CipherStream::process(ByteView in, MutableByteView out) {
  if (finished_) throw std::logic_error("CipherStream::process after finish");
  Step step{0, 0};
  if (pendingSize_ != 0) {
    step.produced = drainPending(out);
    if (pendingSize_ != 0 || in.empty()) return step;
    out = out.subspan(step.produced);
  }
  if (in.empty() || out.empty()) return step;

  auto update = [this](ByteView input, MutableByteView output) {
    return std::visit([&](auto& engine) { return engine.update(input, output); }, engine_);
  };
  if (out.size() > maxOutput(kPieceSize)) {
    // Fast path: encrypt or decrypt straight into the caller's buffer, as much input as it can take.
    const std::size_t take = std::min(in.size(), out.size() - maxOutput(0));
    step.consumed = take;
    step.produced += update(in.first(take), out);
  } else {
    // Small output buffer: transform a small piece aside and hand it out over as many calls as needed.
    const std::size_t take = std::min(in.size(), kPieceSize);
    step.consumed = take;
    pendingSize_ = update(in.first(take), pending_);
    pendingOffset_ = 0;
    step.produced += drainPending(out);
  }
  return step;
}

std::size_t CipherStream::finish(MutableByteView out) {
  if (!finished_) {
    if (pendingSize_ != 0) return drainPending(out);
    pendingSize_ = std::visit([&](auto& engine) { return engine.finish(pending_); }, engine_);
    pendingOffset_ = 0;
    finished_ = true;
  }
  return pendingSize_ == 0 ? 0 : drainPending(out);
}

}  // namespace pgbr::crypto
