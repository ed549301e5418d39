// The plaintext of one file of a backup, streamed from the repository (FORMAT.md §5.2, §6, §12): where the bytes of
// a manifest file are (the backup its reference names, a bundle member at its offset, the compress extension), and
// a reader that decrypts and decompresses them on demand, keeping only a bounded window of plaintext, and checks
// the manifest's size and SHA-1 when the file has been read to its end. Used by restore and by the snapshot view of
// the pgbrfs daemon, which reads the ciphertext of the backing directory itself.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backup/compress_type.h"
#include "backup/manifest.h"
#include "backup/posix_storage.h"
#include "backup/unique_fd.h"
#include "crypto/bytes.h"
#include "crypto/cipher_spec.h"

namespace pgbr::backup {

// Where and how the bytes of one manifest file are stored.
struct StoredBackupFile {
  std::string name;                      // manifest name, "pg_data/base/1/112"
  std::string repoPath;                  // repository-relative: "backup/demo/<label>/pg_data/base/1/112.gz"
  std::uint64_t offset = 0;              // in repoPath (bundle members)
  std::optional<std::uint64_t> length;   // bundle member: exactly these bytes; otherwise up to the end of the file
  CompressType compressType = CompressType::None;
  bool raw = false;                      // backup-bundle-raw: raw cipher header, gz read as zlib
  bool blockIncremental = false;         // stored as a block map (.pgbi): not readable as a stream
  std::uint64_t size = 0;                // plaintext size (manifest size)
  std::string checksum;                  // plaintext SHA-1 (manifest checksum; the empty SHA-1 when absent)
};

inline constexpr const char* kEmptySha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

// The compress type a backup's files are stored with ([backup:option] option-compress-type, or gz/none from
// option-compress in older manifests). Throws FormatError for an unknown type.
CompressType manifestCompressType(const Manifest& manifest);

// Resolves `file` of `manifest` (a backup of `stanza`) to its stored bytes. Does no I/O.
StoredBackupFile storedBackupFile(const Manifest& manifest, const ManifestFile& file, const std::string& stanza);

// Reads the plaintext of one stored file. Not thread-safe (one per open file). Reads that continue where the last
// one ended stream on; a read behind the window kept in memory (up to kWindow bytes of recent plaintext, at least
// half of it behind the newest byte, so that out-of-order reads of the kernel's read-ahead are served without
// restarting: with 1 MiB of read-ahead they arrive up to ~4.5 MiB behind the newest) restarts the decoding
// from the start of the stored file; a read ahead decodes and drops what lies between. Memory: the window plus one
// pipeline buffer per stage, none larger than the file; nothing is allocated per read.
class BackupFileReader {
 public:
  static constexpr std::size_t kWindow = 16 * 1024 * 1024;

  // Opens the stored file beneath `repo` (whose content is ciphertext when `cipher` is encrypted: the spec that
  // encrypts repoPath, or for a bundle member the bundle file). Throws FormatError when the file is missing,
  // StorageError when it cannot be opened, UnsupportedError for a block-incremental file. `repo` must outlive the reader.
  BackupFileReader(const PosixStorage& repo, StoredBackupFile file, crypto::CipherSpec cipher);
  ~BackupFileReader();
  BackupFileReader(const BackupFileReader&) = delete;
  BackupFileReader& operator=(const BackupFileReader&) = delete;

  // Up to out.size() plaintext bytes at `offset`, fewer near the end of the file; 0 at or past the manifest size.
  // The read that reaches the end of the file first checks that the stored stream ends there and that its SHA-1 is
  // the manifest's. Throws FormatError (crypto::CryptoError for bad ciphertext) naming the manifest file and the
  // repository file when the data is corrupt, truncated or does not match; every later read throws it again.
  std::size_t read(std::uint64_t offset, MutableByteView out);

  const StoredBackupFile& file() const { return file_; }
  // How many times decoding started from the beginning of the stored file (for tests and statistics).
  std::uint64_t restarts() const { return restarts_; }
  // "'<repo root>/<repoPath>'" plus " at offset N" for bundle members: how messages name the repository file.
  std::string describeRepoFile() const;

 private:
  class RangeSource;
  struct Decoder;

  void restart();
  std::size_t decodeMore(std::uint64_t keepFrom);
  void finishAndVerify();
  [[noreturn]] void fail(const std::string& message);

  const PosixStorage& repo_;
  StoredBackupFile file_;
  crypto::CipherSpec cipher_;
  UniqueFd fd_;
  std::unique_ptr<Decoder> decoder_;
  // Plaintext [windowStart_, windowStart_ + windowLength_); left uninitialized (not zero-filled at every open).
  std::unique_ptr<std::uint8_t[]> window_;
  std::size_t windowSize_ = 0;
  std::uint64_t windowStart_ = 0;
  std::size_t windowLength_ = 0;
  std::uint64_t restarts_ = 0;
  std::optional<std::string> failure_;
};

}  // namespace pgbr::backup
