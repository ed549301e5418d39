#include "backup/repo_filters.h"

#include <memory>

#include "backup/cipher_filter.h"
#include "backup/compress_filter.h"

namespace pgbr::backup {

RepoWriteResult RepoWriteMeters::result() const {
  return {size.size(), checksum.hex(), repoSize.size(), repoChecksum.hex()};
}

RepoWriteMeters addRepoWriteFilters(Pipeline& pipeline, const RepoWriteSpec& spec) {
  const int level = spec.compressLevel.value_or(compressLevelDefault(spec.compressType));
  Sha1Meter& checksum = pipeline.add(std::make_unique<Sha1Meter>());
  SizeMeter& size = pipeline.add(std::make_unique<SizeMeter>());
  pipeline.add(newCompressFilter(spec.compressType, level));
  pipeline.add(newCipherFilter(CipherFilter::Mode::Encrypt, spec.cipher));
  Sha1Meter& repoChecksum = pipeline.add(std::make_unique<Sha1Meter>());
  SizeMeter& repoSize = pipeline.add(std::make_unique<SizeMeter>());
  return {checksum, size, repoChecksum, repoSize};
}

RepoReadResult RepoReadMeters::result() const { return {size.size(), checksum.hex()}; }

RepoReadMeters addRepoReadFilters(Pipeline& pipeline, const RepoReadSpec& spec) {
  const crypto::CipherHeaderKind header = spec.raw ? crypto::CipherHeaderKind::Raw : crypto::CipherHeaderKind::Salted;
  pipeline.add(newCipherFilter(CipherFilter::Mode::Decrypt, spec.cipher, header));
  pipeline.add(newDecompressFilter(spec.compressType, spec.raw));
  Sha1Meter& checksum = pipeline.add(std::make_unique<Sha1Meter>());
  SizeMeter& size = pipeline.add(std::make_unique<SizeMeter>());
  return {checksum, size};
}

}  // namespace pgbr::backup
