#include "backup/cipher_filter.h"

#include <stdexcept>

namespace pgbr::backup {

namespace {
const crypto::Secret& passOf(const crypto::CipherSpec& spec) {
  if (!spec.encrypted()) throw std::invalid_argument("CipherFilter needs an encrypting cipher spec");
  return spec.pass();
}
}  // namespace

CipherFilter::CipherFilter(Mode mode, const crypto::CipherSpec& spec, crypto::CipherHeaderKind header)
    : mode_(mode), stream_(mode, passOf(spec), header) {}

Filter::Step CipherFilter::process(ByteView in, MutableByteView out) {
  const crypto::CipherStream::Step step = stream_.process(in, out);
  return {step.consumed, step.produced};
}

std::size_t CipherFilter::finish(MutableByteView out) { return stream_.finish(out); }

std::string_view CipherFilter::name() const {
  return mode_ == Mode::Encrypt ? "aes-256-cbc encrypt" : "aes-256-cbc decrypt";
}

std::unique_ptr<Filter> newCipherFilter(CipherFilter::Mode mode, const crypto::CipherSpec& spec,
                                        crypto::CipherHeaderKind header) {
  if (!spec.encrypted()) return nullptr;
  return std::make_unique<CipherFilter>(mode, spec, header);
}

}  // namespace pgbr::backup
