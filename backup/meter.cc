#include "backup/meter.h"

#include <stdexcept>

namespace pgbr::backup {

void Sha1Meter::observe(ByteView data) {
  if (hex_) throw std::logic_error("Sha1Meter::observe after hex()");
  sha_.update(data);
}

const std::string& Sha1Meter::hex() {
  if (!hex_) hex_ = sha_.finishHex();
  return *hex_;
}

}  // namespace pgbr::backup
