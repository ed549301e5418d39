// The cipher stage of a pipeline: pgBackRest's cipher block format (FORMAT.md §2) as a Filter over
// crypto::CipherStream. A `none` spec makes no filter at all, so plain and encrypted repositories run the same
// pipeline code with one stage fewer.
#pragma once

#include <memory>

#include "backup/filter.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_spec.h"
#include "crypto/cipher_stream.h"

namespace pgbr::backup {

class CipherFilter final : public Filter {
 public:
  using Mode = crypto::CipherStream::Mode;

  // Precondition: spec.encrypted(). Raw headers (bundles with backup-bundle-raw, block incremental) can only be
  // decrypted; asking to encrypt with one throws std::invalid_argument. Data errors throw crypto::CryptoError.
  CipherFilter(Mode mode, const crypto::CipherSpec& spec,
               crypto::CipherHeaderKind header = crypto::CipherHeaderKind::Salted);

  Step process(ByteView in, MutableByteView out) override;
  std::size_t finish(MutableByteView out) override;
  bool done() const override { return stream_.finished(); }
  std::string_view name() const override;

 private:
  Mode mode_;
  crypto::CipherStream stream_;
};

// The filter for `spec`, or null for a `none` spec (Pipeline::add ignores null).
std::unique_ptr<Filter> newCipherFilter(CipherFilter::Mode mode, const crypto::CipherSpec& spec,
                                        crypto::CipherHeaderKind header = crypto::CipherHeaderKind::Salted);

}  // namespace pgbr::backup
