#include "fs/staged_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>

#include "backup/ini_document.h"
#include "backup/key_resolver.h"
#include "fs/fd_file_io.h"
#include "fs/fs_error.h"
#include "fs/log.h"

namespace pgbr::fs {

namespace {

UniqueFd openDir(backup::PosixStorage& storage, const std::string& dir) {
  UniqueFd fd(storage.openBeneath(dir, O_RDONLY | O_DIRECTORY));
  if (!fd) throw FsError::fromErrno(errno, "unable to open directory '" + (dir.empty() ? "." : dir) + "'");
  return fd;
}

// Copies all of `from` into `to` (both regular files), preferring in-kernel copies; file positions are not used.
void copyFile(int from, int to, const std::string& name) {
  loff_t in = 0, out = 0;
  for (;;) {
    const ssize_t n = ::copy_file_range(from, &in, to, &out, 1 << 30, 0);
    if (n > 0) continue;
    if (n == 0) return;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
      throw FsError::fromErrno(errno, "unable to copy '" + name + "' to its staging file");
    break;
  }
  std::array<std::uint8_t, 1 << 16> buffer{};
  FdFileIo target(to, name);
  for (;;) {
    const std::size_t n = preadFull(from, static_cast<std::uint64_t>(in), buffer, name);
    if (n == 0) return;
    target.writeAt(static_cast<std::uint64_t>(out), ByteView(buffer.data(), n));
    in += static_cast<loff_t>(n);
    out += static_cast<loff_t>(n);
  }
}

}  // namespace

StagedFile::StagedFile(StagingContext& context, std::string path, crypto::CipherSpec spec)
    : context_(context), path_(std::move(path)), spec_(std::move(spec)) {}

StagedFile::~StagedFile() {
  try {
    discardStaging();
  } catch (const std::exception& e) {
    log(LogLevel::Warn, std::string("unable to remove a staging file: ") + e.what());
  }
}

std::shared_ptr<StagedFile> StagedFile::createNew(StagingContext& context, const std::string& path,
                                                  crypto::CipherSpec spec, Owner owner) {
  std::shared_ptr<StagedFile> file(new StagedFile(context, path, std::move(spec)));
  file->stage(true, &owner);
  return file;
}

std::shared_ptr<StagedFile> StagedFile::openExisting(StagingContext& context, const std::string& path,
                                                     crypto::CipherSpec spec, bool truncate) {
  std::shared_ptr<StagedFile> file(new StagedFile(context, path, std::move(spec)));
  if (truncate) file->stage(true, nullptr);
  return file;
}

// Creates the staging file: empty, or a copy of the current file. Caller holds the lock exclusively.
void StagedFile::stage(bool empty, const Owner* owner) {
  StagingArea::File staging = context_.area.create();
  stageFd_ = std::move(staging.fd);
  stageName_ = std::move(staging.name);
  try {
    if (owner != nullptr) {
      // A new file belongs to its creator, as on a local file system.
      if (::fchown(stageFd_.get(), owner->uid, owner->gid) != 0 && errno != EPERM)
        throw FsError::fromErrno(errno, "unable to set the owner of '" + path_ + "'");
      ::fchmod(stageFd_.get(), owner->mode & 07777);
      editor_ = ContentEditor::create(spec_, stageFd_.get(), path_);
      return;
    }
    // The current content: the descriptor already open (which survives an unlink), or the file by name.
    UniqueFd opened;
    int current = backing_ ? backing_->fd() : -1;
    if (current < 0) {
      opened.reset(context_.storage.openBeneath(path_, O_RDONLY | O_NOFOLLOW));
      if (!opened) throw FsError::fromErrno(errno, "unable to open '" + path_ + "'");
      current = opened.get();
    }
    struct stat st {};
    if (::fstat(current, &st) != 0) throw FsError::fromErrno(errno, "unable to stat '" + path_ + "'");
    if (::fchown(stageFd_.get(), st.st_uid, st.st_gid) != 0 && errno != EPERM)
      throw FsError::fromErrno(errno, "unable to set the owner of '" + path_ + "'");
    ::fchmod(stageFd_.get(), st.st_mode & 07777);
    if (empty) {
      editor_ = ContentEditor::create(spec_, stageFd_.get(), path_);
    } else {
      copyFile(current, stageFd_.get(), path_);
      editor_ = ContentEditor::open(spec_, stageFd_.get(), path_);
    }
    backing_.reset();
  } catch (...) {
    discardStaging();
    throw;
  }
}

void StagedFile::requireStaged() {
  if (!editor_) stage(false, nullptr);
}

template <typename Change>
void StagedFile::change(std::unique_lock<std::shared_mutex>& lock, Change&& apply) {
  try {
    apply();
  } catch (const std::exception& e) {
    dropFailed(lock, e);
    throw;
  }
}

// The editor may have written part of a change (some blocks, not the rest): what is staged can no longer be
// trusted. Publishing it would put a torn or undecryptable file under the final name.
void StagedFile::dropFailed(std::unique_lock<std::shared_mutex>& lock, const std::exception& e) {
  if (failedErrno_ != 0) return;  // already dropped by the first failure
  failedErrno_ = errnoFor(e);
  failure_ = e.what();
  waitForLanding(lock);  // writes in flight still use the staging descriptor
  try {
    discardStaging();
  } catch (const std::exception& removal) {
    log(LogLevel::Warn, std::string("unable to remove a staging file: ") + removal.what());
  }
  wakeWaiters(true);
  log(LogLevel::Error, "'" + path_ + "': " + failure_ + "; the changes are dropped, the previous version stays");
}

void StagedFile::waitForLanding(std::unique_lock<std::shared_mutex>& lock) {
  landingWaiters_++;
  landed_.wait(lock, [this] { return inFlight_ == 0; });
  landingWaiters_--;
}

void StagedFile::requireUsable() {
  if (failedErrno_ != 0)
    throw FsError(failedErrno_, "'" + path_ + "' was not written: an earlier change failed (" + failure_ +
                                    "); its previous version is unchanged");
}

void StagedFile::discardStaging() {
  editor_.reset();
  if (stageFd_) {
    stageFd_.reset();
    context_.area.remove(stageName_);
  }
  stageName_.clear();
}

BackingReader& StagedFile::backingReader() {
  if (!backing_) {
    UniqueFd fd(context_.storage.openBeneath(path_, O_RDONLY | O_NOFOLLOW));
    if (!fd) throw FsError::fromErrno(errno, "unable to open '" + path_ + "'");
    backing_ = std::make_unique<BackingReader>(std::move(fd), spec_, path_);
  }
  return *backing_;
}

void StagedFile::prepareRead() {
  std::lock_guard lock(mutex_);
  if (!editor_) backingReader();
}

std::uint64_t StagedFile::size() {
  std::lock_guard lock(mutex_);
  return editor_ ? editor_->size() : backingReader().plainSize();
}

// With the kernel's writeback cache the pieces of one sequential stream arrive on several threads, about half of
// them before their predecessor. CBC must encrypt in order, so such a piece would be copied aside until the gap
// fills, and the copies (into fresh pages) cost more than the encryption. The thread carrying the missing piece is
// usually a few microseconds behind: a piece a little ahead of the end waits for it instead. A file whose gap does
// not fill in time (sparse or random writes) stops waiting and uses the copies.
void StagedFile::waitForEarlierWrites(std::unique_lock<std::shared_mutex>& lock, std::uint64_t offset) {
  constexpr std::uint64_t kMaxGap = 32ull << 20;  // more than the kernel keeps in flight for one file
  constexpr auto kMaxWait = std::chrono::milliseconds(50);
  // The kernel keeps up to max_background (12) writes in flight per mount, and with encryption the bottleneck they
  // are all queued here: every one of them may wait (32 workers stay enough for the missing pieces); a waiter past
  // this is copied aside, and its copy appended later under the lock, which slows the whole stream.
  constexpr unsigned kMaxWaiters = 16;
  while (waitForOrder_ && editor_ && waiters_ < kMaxWaiters) {
    const std::optional<std::uint64_t> streaming = editor_->streamingOffset();
    if (!streaming || offset <= *streaming || offset - *streaming > kMaxGap) return;
    std::condition_variable_any mine;
    const auto entry = waiting_.emplace(offset, &mine);
    waiters_++;
    const std::cv_status status = mine.wait_for(lock, kMaxWait);
    waiters_--;
    waiting_.erase(entry);
    if (status == std::cv_status::timeout) {
      const std::optional<std::uint64_t> now = editor_ ? editor_->streamingOffset() : std::nullopt;
      if (now && offset > *now && ++waitTimeouts_ >= 3) {
        waitForOrder_ = false;
        wakeWaiters(true);
        log(LogLevel::Debug, "'" + path_ + "': a write at " + std::to_string(offset) + " waited " +
                                 std::to_string(kMaxWait.count()) + " ms (the third time) for the data before it (encrypted up to " +
                                 std::to_string(*now) + "); writes ahead of the end are now held in memory");
      }
    }
  }
}

// Called with the lock held after a change: wakes the waiting writes that may go on now (all: after anything but an
// ordinary write, since they must re-check the file's state).
void StagedFile::wakeWaiters(bool everyone) {
  const std::optional<std::uint64_t> streaming = editor_ && !everyone ? editor_->streamingOffset() : std::nullopt;
  for (const auto& [offset, waiter] : waiting_) {
    if (streaming && offset > *streaming) break;
    waiter->notify_one();
  }
}

void StagedFile::write(std::uint64_t offset, ByteView data) {
  std::unique_lock lock(mutex_);
  requireUsable();
  requireStaged();
  waitForEarlierWrites(lock, offset);
  requireUsable();  // a write on another thread may have failed meanwhile
  requireStaged();  // a publish by another descriptor may have happened meanwhile
  // The common case, the next piece of a sequential stream: encrypted here, in order, and written outside the lock
  // so that the next piece is encrypted meanwhile (CBC is serial; the copy into the backing file need not be).
  thread_local std::vector<std::uint8_t> cipher;
  std::optional<ContentEditor::Prepared> prepared;
  if (landingWaiters_ == 0) change(lock, [&] { prepared = editor_->prepareAppend(offset, data, cipher); });
  if (!prepared) {
    // Only a write into the encrypted part reads and re-encrypts blocks that may still be in flight; one beyond it
    // waits in memory or appends after them.
    const std::optional<std::uint64_t> streaming = editor_->streamingOffset();
    if (streaming && offset < *streaming) {
      waitForLanding(lock);
      requireUsable();
      requireStaged();
    }
    change(lock, [&] { editor_->write(offset, data); });
    wakeWaiters(false);
    return;
  }
  inFlight_++;
  FdFileIo target(stageFd_.get(), path_);
  wakeWaiters(false);
  lock.unlock();
  std::exception_ptr error;
  try {
    target.writeAt(prepared->offset, prepared->bytes);
  } catch (const std::exception&) {
    error = std::current_exception();
  }
  lock.lock();
  if (--inFlight_ == 0) landed_.notify_all();
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    dropFailed(lock, e);
    throw;
  }
}

void StagedFile::truncate(std::uint64_t size) {
  std::unique_lock lock(mutex_);
  waitForLanding(lock);
  requireUsable();
  if (!editor_) {
    if (backingReader().plainSize() == size) return;
    stage(size == 0, nullptr);
  }
  change(lock, [&] { editor_->truncate(size); });
  wakeWaiters(true);
}

std::size_t StagedFile::read(std::uint64_t offset, MutableByteView out) {
  {
    // The common case, a published file: readers decrypt in parallel.
    std::shared_lock shared(mutex_);
    if (!editor_ && backing_) return backing_->read(offset, out);
  }
  std::unique_lock lock(mutex_);
  waitForLanding(lock);
  return editor_ ? editor_->read(offset, out) : backingReader().read(offset, out);
}

void StagedFile::checkGoverningFile() {
  if (!context_.encryptedMount || !backup::KeyResolver::isGoverningFile(path_)) return;
  // Info files and manifests are small: read the staged plaintext, check it carries the next level's key.
  std::string text(editor_->size(), '\0');
  editor_->read(0, MutableByteView(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
  bool hasPass = false;
  std::string problem;
  try {
    const backup::IniDocument document = backup::IniDocument::parse(text);
    const std::string* pass = document.find("cipher", "cipher-pass");
    hasPass = pass != nullptr && pass->size() > 2;
    if (!hasPass) problem = "it has no [cipher] cipher-pass";
  } catch (const std::exception& e) {
    problem = std::string("it is not a valid info file (") + e.what() + ")";
  }
  crypto::Secret::wipe(text);
  if (!hasPass)
    throw FsError(EIO, "refusing to write '" + path_ + "' on an encrypted mount: " + problem +
                           "; the files it governs would be left unencrypted or unreadable");
}

void StagedFile::publish() {
  std::unique_lock lock(mutex_);
  waitForLanding(lock);
  requireUsable();
  if (!editor_ || unlinked_) return;
  change(lock, [&] { editor_->finish(); });
  checkGoverningFile();
  if (times_ && ::futimens(stageFd_.get(), times_->data()) != 0)
    throw FsError::fromErrno(errno, "unable to set the times of '" + path_ + "'");
  if (::fsync(stageFd_.get()) != 0) throw FsError::fromErrno(errno, "unable to sync '" + path_ + "'");
  const UniqueFd targetDir = openDir(context_.storage, backup::repoPathParent(path_));
  if (::renameat(context_.area.dirFd(), stageName_.c_str(), targetDir.get(), backup::repoPathName(path_).c_str()) != 0)
    throw FsError::fromErrno(errno, "unable to publish '" + path_ + "'");
  // The content is in place; from here on the staging name is gone whatever happens.
  editor_.reset();
  wakeWaiters(true);
  stageFd_.reset();
  stageName_.clear();
  times_.reset();
  if (::fsync(targetDir.get()) != 0) throw FsError::fromErrno(errno, "unable to sync the directory of '" + path_ + "'");
}

void StagedFile::sync() {
  std::unique_lock lock(mutex_);
  waitForLanding(lock);
  requireUsable();
  if (!editor_) return;
  change(lock, [&] { editor_->finish(); });
  if (::fsync(stageFd_.get()) != 0) throw FsError::fromErrno(errno, "unable to sync '" + path_ + "'");
}

std::optional<struct stat> StagedFile::stagedAttributes() {
  std::lock_guard lock(mutex_);
  if (!editor_) return std::nullopt;
  struct stat st {};
  if (::fstat(stageFd_.get(), &st) != 0) throw FsError::fromErrno(errno, "unable to stat '" + path_ + "'");
  st.st_size = static_cast<off_t>(editor_->size());
  st.st_blocks = (st.st_size + 511) / 512;
  if (times_) {
    st.st_atim = (*times_)[0];
    st.st_mtim = (*times_)[1];
  }
  return st;
}

// Attribute changes while nothing is staged go to the backing path (the caller's job, return false) unless the
// file was unlinked: then its name may belong to another file, and the change goes to the descriptor held.
bool StagedFile::setMode(mode_t mode) {
  std::lock_guard lock(mutex_);
  if (!editor_) {
    if (!unlinked_) return false;
    if (backing_ && ::fchmod(backing_->fd(), mode & 07777) != 0)
      throw FsError::fromErrno(errno, "unable to chmod '" + path_ + "'");
    return true;
  }
  if (::fchmod(stageFd_.get(), mode & 07777) != 0) throw FsError::fromErrno(errno, "unable to chmod '" + path_ + "'");
  return true;
}

bool StagedFile::setOwner(uid_t uid, gid_t gid) {
  std::lock_guard lock(mutex_);
  if (!editor_) {
    if (!unlinked_) return false;
    if (backing_ && ::fchown(backing_->fd(), uid, gid) != 0)
      throw FsError::fromErrno(errno, "unable to chown '" + path_ + "'");
    return true;
  }
  if (::fchown(stageFd_.get(), uid, gid) != 0) throw FsError::fromErrno(errno, "unable to chown '" + path_ + "'");
  return true;
}

bool StagedFile::setTimes(const struct timespec times[2]) {
  std::lock_guard lock(mutex_);
  if (!editor_) {
    if (!unlinked_) return false;
    if (backing_ && ::futimens(backing_->fd(), times) != 0)
      throw FsError::fromErrno(errno, "unable to set the times of '" + path_ + "'");
    return true;
  }
  // Kept and applied at publish, after the final block is written (which would otherwise move mtime).
  std::array<struct timespec, 2> value{};
  if (times_) value = *times_;
  struct stat st {};
  ::fstat(stageFd_.get(), &st);
  for (int i = 0; i < 2; i++) {
    if (times[i].tv_nsec == UTIME_OMIT) {
      value[static_cast<std::size_t>(i)] = times_ ? (*times_)[static_cast<std::size_t>(i)] : (i == 0 ? st.st_atim : st.st_mtim);
    } else if (times[i].tv_nsec == UTIME_NOW) {
      ::clock_gettime(CLOCK_REALTIME, &value[static_cast<std::size_t>(i)]);
    } else {
      value[static_cast<std::size_t>(i)] = times[i];
    }
  }
  times_ = value;
  return true;
}

std::string StagedFile::path() {
  std::lock_guard lock(mutex_);
  return path_;
}

void StagedFile::moved(const std::string& newPath) {
  std::lock_guard lock(mutex_);
  path_ = newPath;
}

struct stat StagedFile::attributes() {
  if (std::optional<struct stat> st = stagedAttributes()) return *st;
  std::lock_guard lock(mutex_);
  BackingReader& reader = backingReader();
  struct stat st {};
  if (::fstat(reader.fd(), &st) != 0) throw FsError::fromErrno(errno, "unable to stat '" + path_ + "'");
  st.st_size = static_cast<off_t>(reader.plainSize());
  st.st_blocks = (st.st_size + 511) / 512;
  return st;
}

bool StagedFile::isUnlinked() {
  std::lock_guard lock(mutex_);
  return unlinked_;
}

void StagedFile::unlinked() {
  std::lock_guard lock(mutex_);
  unlinked_ = true;
  // Called before the name goes: keep a descriptor so reads and later writes still reach the content.
  if (!editor_) {
    try {
      backingReader();
    } catch (const std::exception&) {
      // A corrupt or vanished file: later reads report it.
    }
  }
}

}  // namespace pgbr::fs
