// A file open through the mount: every handle opened on the same path shares one StagedFile, so all of them see the
// same content, as descriptors of one inode do. Reads come from the published backing file until something changes;
// changes go to a staging file in the StagingArea (ciphertext only on an encrypted mount) and replace the target by
// an atomic rename when published (at close), after fsync of the file and then of the directory. A killed writer or
// daemon leaves at most a stale staging file, never a torn file under the final name. An unlinked or replaced file
// keeps its content for its open handles and is never published again. A change that fails (ENOSPC, EIO) leaves the
// staged content unknown: it is dropped at once, freeing its space, and never published; later changes, fsync and
// close through the open file report the same error and the previous version stays. Thread-safe: reads of a
// published file run in parallel, everything else holds the file's lock.
#pragma once

#include <sys/stat.h>

#include <array>
#include <condition_variable>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "backup/posix_storage.h"
#include "crypto/cipher_spec.h"
#include "fs/backing_reader.h"
#include "fs/content_editor.h"
#include "fs/staging_area.h"

namespace pgbr::fs {

// Shared by every StagedFile of one mount.
struct StagingContext {
  backup::PosixStorage& storage;
  StagingArea& area;
  bool encryptedMount = false;  // check governing files for a cipher-pass when publishing
};

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
  // An existing file: nothing is copied until the first change. `truncate` empties it now.
  static std::shared_ptr<StagedFile> openExisting(StagingContext& context, const std::string& path,
                                                  crypto::CipherSpec spec, bool truncate);
  // Opens the published file now if nothing is staged, so that a corrupt file fails its open() (CryptoError).
  void prepareRead();
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  std::uint64_t size();
  void write(std::uint64_t offset, ByteView data);
  void truncate(std::uint64_t size);
  std::size_t read(std::uint64_t offset, MutableByteView out);
  // Makes the changes visible and durable under the final name. Errors leave the previous version of the file in
  // place: a governing file without a cipher-pass keeps its changes staged; a failed write or final block (ENOSPC,
  // EIO) drops them (see above).
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
  // The file (or a directory above it) was renamed: it now lives at `newPath`.
  void moved(const std::string& newPath);
  // Its name was removed or replaced: open handles keep the content it has now, and it is never published.
  void unlinked();
  bool isUnlinked();

 private:
  StagedFile(StagingContext& context, std::string path, crypto::CipherSpec spec);
  void stage(bool empty, const Owner* owner);
  void waitForEarlierWrites(std::unique_lock<std::shared_mutex>& lock, std::uint64_t offset);
  void wakeWaiters(bool everyone);
  void waitForLanding(std::unique_lock<std::shared_mutex>& lock);
  void dropFailed(std::unique_lock<std::shared_mutex>& lock, const std::exception& e);
  void requireStaged();
  void checkGoverningFile();
  void discardStaging();
  // Runs a change of the staged content; if it throws, the staged content is dropped and the file marked failed.
  template <typename Change>
  void change(std::unique_lock<std::shared_mutex>& lock, Change&& apply);
  void requireUsable();
  BackingReader& backingReader();

  StagingContext& context_;
  std::shared_mutex mutex_;
  // Writes waiting for the data before them, by offset, each on its own condition: a piece encrypted wakes only the
  // one that continues it (waking all of them per piece cost more than a tenth of a core).
  std::multimap<std::uint64_t, std::condition_variable_any*> waiting_;
  bool waitForOrder_ = true;             // off once a gap did not fill in time (sparse or random writes)
  unsigned waiters_ = 0;
  unsigned waitTimeouts_ = 0;
  // Ciphertext of sequential appends is written outside the lock (encrypted in order under it): while any such
  // write is in flight, nothing may read, rewrite, finish or close the staging file.
  unsigned inFlight_ = 0;
  unsigned landingWaiters_ = 0;            // while > 0, writes take the locked path (no starvation)
  std::condition_variable_any landed_;     // inFlight_ dropped to 0
  std::string path_;
  crypto::CipherSpec spec_;
  UniqueFd stageFd_;
  std::string stageName_;        // in the staging area, while staged
  std::unique_ptr<ContentEditor> editor_;
  std::unique_ptr<BackingReader> backing_;  // current published file, for reads while nothing is staged
  std::optional<std::array<struct timespec, 2>> times_;
  bool unlinked_ = false;
  int failedErrno_ = 0;    // a change failed: nothing is published while this file stays open
  std::string failure_;
};

}  // namespace pgbr::fs
