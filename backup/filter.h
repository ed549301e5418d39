// The one streaming interface every byte transform implements (compression, decompression, encryption):
// the zlib model with bounded output. A Filter never allocates output in proportion to its input, so a
// pipeline of filters runs in constant memory whatever the data (a gzip bomb included).
#pragma once

#include <cstddef>
#include <string_view>

#include "crypto/bytes.h"

namespace pgbr::backup {

// Not thread-safe; one stream per object. Errors in the data throw FormatError (backup/backup_error.h) or,
// for the cipher, crypto::CryptoError; after a throw the object must not be used again.
class Filter {
 public:
  struct Step {
    std::size_t consumed;
    std::size_t produced;
  };

  virtual ~Filter() = default;

  // Consumes a prefix of `in` and writes at most out.size() bytes to `out`. Makes progress (consumes or
  // produces at least one byte) whenever `in` or the filter's pending output is non-empty and `out` is
  // non-empty; returns {0, 0} with empty `in` only when nothing is pending. A single-stream decompressor (gz,
  // zlib, bz2) that has seen the end of its stream throws FormatError on more input (trailing data).
  virtual Step process(ByteView in, MutableByteView out) = 0;
  // The input has ended: writes what remains, at most out.size() bytes. Call until done(); each call with a
  // non-empty `out` either writes something or makes done() true. Throws on a malformed end of stream.
  virtual std::size_t finish(MutableByteView out) = 0;
  // True once finish() has written the last byte. A single-stream decompressor is also done as soon as its
  // stream has ended, before finish() (any further input is then an error).
  virtual bool done() const = 0;
  // For error messages: "gz compress", "aes-256-cbc decrypt", ...
  virtual std::string_view name() const = 0;
};

}  // namespace pgbr::backup
