// A file being written through the mount. New content goes to a staging file beside the target (ciphertext only on
// an encrypted mount), named ".pgbrfs-stage.<instance>.<n>" and hidden from the mount, and replaces the target by
// an atomic rename when published (at close), after fsync of the file and then of the directory. A killed writer or
// daemon leaves at most a stale staging file, never a torn file under the final name. All handles that open the
// same path for writing share one StagedFile. Thread-safe (one mutex per file).
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "backup/posix_storage.h"
#include "crypto/cipher_spec.h"
#include "fs/backing_reader.h"
#include "fs/content_editor.h"
#include "backup/unique_fd.h"

namespace pgbr::fs {

using backup::UniqueFd;

// Shared by every StagedFile of one mount.
struct StagingContext {
  backup::PosixStorage& storage;
  std::string instance;                // distinguishes this daemon's staging files from stale ones
  std::atomic<std::uint64_t> sequence{0};
  bool encryptedMount = false;         // check governing files for a cipher-pass when publishing
};

inline constexpr const char* kStagePrefix = ".pgbrfs-stage.";
// Names the mount hides and refuses to create: this daemon's staging files.
bool isStagingName(std::string_view name);

class StagedFile {
 public:
  struct Owner {
    mode_t mode;
    uid_t uid;
    gid_t gid;
  };

  // A file that does not exist yet: the staging file is made now and published at the first publish().
  static std::shared_ptr<StagedFile> createNew(StagingContext& context, const std::string& path,
                                               crypto::CipherSpec spec, Owner owner);
  // An existing file opened for writing: nothing is copied until the first change. `truncate` empties it now.
  static std::shared_ptr<StagedFile> openExisting(StagingContext& context, const std::string& path,
                                                  crypto::CipherSpec spec, bool truncate);
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  std::uint64_t size();
  void write(std::uint64_t offset, ByteView data);
  void truncate(std::uint64_t size);
  std::size_t read(std::uint64_t offset, MutableByteView out);
  // Makes the changes visible and durable under the final name. Errors (ENOSPC, EIO, a governing file without a
  // cipher-pass) leave the previous version of the file in place and the changes staged.
  void publish();
  // fsync: the staged content is made durable (in the staging file; the name follows at publish).
  void sync();
  // Attributes while changes are staged (plaintext size); nullopt when the backing file is current.
  std::optional<struct stat> stagedAttributes();
  // Attributes of what this file holds now: the staged content, or the backing file it has open (which may have
  // been unlinked), with the plaintext size.
  struct stat attributes();
  // Attribute changes while staged apply to the staging file (and times are re-applied after the last write).
  bool setMode(mode_t mode);
  bool setOwner(uid_t uid, gid_t gid);
  bool setTimes(const struct timespec times[2]);

  std::string path();
  // The file (or a directory above it, renamed from `fromDir` to `toDir`) was renamed to `newPath`.
  void moved(const std::string& newPath, const std::string& fromDir, const std::string& toDir);
  void unlinked();

 private:
  StagedFile(StagingContext& context, std::string path, crypto::CipherSpec spec);
  void stage(bool empty, const Owner* owner);
  void requireStaged();
  void checkGoverningFile();
  void discardStaging();
  BackingReader& backingReader();

  StagingContext& context_;
  std::mutex mutex_;
  std::string path_;
  crypto::CipherSpec spec_;
  UniqueFd stageFd_;
  std::string stagePath_;        // repository-relative path of the staging file while staged
  std::unique_ptr<ContentEditor> editor_;
  std::unique_ptr<BackingReader> backing_;  // current published file, for reads while nothing is staged
  std::optional<std::array<struct timespec, 2>> times_;
  bool unlinked_ = false;
};

}  // namespace pgbr::fs
