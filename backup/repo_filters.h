// pgBackRest's two paths for the bytes of a repository file, built onto a Pipeline (FORMAT.md §6):
// write = sha1(plain) -> size(plain) -> compress -> encrypt -> sha1(repo) -> size(repo);
// read  = decrypt -> decompress -> sha1(plain) -> size(plain).
// The meters give the manifest's checksum, size, rck and repo-size. `none` compression or cipher adds no stage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "backup/compress_type.h"
#include "backup/meter.h"
#include "backup/pipeline.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_spec.h"

namespace pgbr::backup {

struct RepoWriteSpec {
  CompressType compressType = CompressType::None;
  std::optional<int> compressLevel;  // nullopt: compressLevelDefault(compressType)
  crypto::CipherSpec cipher = crypto::CipherSpec::none();
};

// In the manifest's words: `size`, `checksum` (SHA-1 of the plain bytes), `repo-size`, `rck` (SHA-1 of the
// bytes stored in the repository).
struct RepoWriteResult {
  std::uint64_t size = 0;
  std::string checksum;
  std::uint64_t repoSize = 0;
  std::string repoChecksum;
};

// The meters of a write path; they live in the pipeline. result() is valid once the pipeline has ended.
struct RepoWriteMeters {
  Sha1Meter& checksum;
  SizeMeter& size;
  Sha1Meter& repoChecksum;
  SizeMeter& repoSize;
  RepoWriteResult result() const;
};

// Appends the write path to `pipeline` (usually a push pipeline into the repository file). Throws
// std::invalid_argument for a level out of range for the compress type.
RepoWriteMeters addRepoWriteFilters(Pipeline& pipeline, const RepoWriteSpec& spec);

struct RepoReadSpec {
  CompressType compressType = CompressType::None;
  crypto::CipherSpec cipher = crypto::CipherSpec::none();
  // pgBackRest's raw variant (bundle-raw, block incremental): raw cipher header, gz read as zlib.
  bool raw = false;
};

struct RepoReadResult {
  std::uint64_t size = 0;
  std::string checksum;
};

struct RepoReadMeters {
  Sha1Meter& checksum;
  SizeMeter& size;
  RepoReadResult result() const;
};

// Appends the read path to `pipeline` (usually a pull pipeline over the repository file).
RepoReadMeters addRepoReadFilters(Pipeline& pipeline, const RepoReadSpec& spec);

}  // namespace pgbr::backup
