#include "fs/wal_archive_view.h"

#include <fcntl.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>

#include "backup/archive_get.h"
#include "backup/archive_push.h"
#include "backup/pgbackrest_error.h"
#include "backup/stanza_info.h"
#include "backup/storage_error.h"
#include "backup/wal_name.h"
#include "fs/log.h"
#include "fs/mount_storage.h"
#include "fs/wal_stream.h"

namespace pgbr::fs {

using backup::CommandError;
using backup::ErrorCode;

namespace {

constexpr Caller kDaemon{0, 0};  // reads need no owner

// Log lines are one line: pgBackRest's messages and hints may span several.
std::string oneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

std::string describe(const std::exception& e) {
  std::string text = e.what();
  if (const auto* command = dynamic_cast<const CommandError*>(&e); command && !command->hint().empty())
    text += " (HINT: " + command->hint() + ")";
  return oneLine(text);
}

// The errno close() returns when archive-push fails (documented in wal_archive_view.h and pgbrfs(8)).
int errnoForPush(const std::exception& e) {
  if (const auto* command = dynamic_cast<const CommandError*>(&e)) {
    switch (command->code()) {
      case ErrorCode::ArchiveDuplicate: return EEXIST;
      case ErrorCode::ArchiveMismatch:
      case ErrorCode::Format:
      case ErrorCode::ParamInvalid: return EINVAL;
      default: return EIO;
    }
  }
  return errnoFor(e);
}

ino_t inodeOf(const std::string& path) { return static_cast<ino_t>(std::hash<std::string>{}(path) | 1); }

struct timespec now() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

// Segment buffers are reused: a fresh 16 MiB segment costs 4,096 page faults and, grown by resize, a zero-fill —
// together more than hashing and compressing the segment. Two spares cover a writer and a reader of the inbox.
class SegmentBuffers {
 public:
  static SegmentBuffers& instance() {
    static SegmentBuffers buffers;
    return buffers;
  }
  Bytes take() {
    {
      std::lock_guard lock(mutex_);
      if (!spare_.empty()) {
        Bytes buffer = std::move(spare_.back());
        spare_.pop_back();
        return buffer;
      }
    }
    Bytes buffer;
    buffer.reserve(kSegmentCapacity);
    return buffer;
  }
  void give(Bytes&& buffer) {
    if (buffer.capacity() < kSegmentCapacity || buffer.capacity() > 4 * kSegmentCapacity) return;
    buffer.clear();
    std::lock_guard lock(mutex_);
    if (spare_.size() < 2) spare_.push_back(std::move(buffer));
  }

 private:
  // The most the inbox takes, reserved (address space only: pages are touched as written) so that the buffer never
  // moves while a WalStream's threads read it.
  static constexpr std::size_t kSegmentCapacity = kMaxWalFileSize;
  std::mutex mutex_;
  std::vector<Bytes> spare_;
};

}  // namespace

std::optional<WalPath> parseWalPath(const std::string& path) {
  constexpr std::string_view kTop = "archive/";
  if (!path.starts_with(kTop)) return std::nullopt;
  const std::size_t slash = path.find('/', kTop.size());
  if (slash == std::string::npos || slash == kTop.size()) return std::nullopt;
  const std::string name = path.substr(slash + 1);
  if (name.find('/') != std::string::npos || !backup::walFileKind(name)) return std::nullopt;
  std::string stanza = path.substr(kTop.size(), slash - kTop.size());
  if (stanza == "." || stanza == "..") return std::nullopt;
  return WalPath{std::move(stanza), name};
}

// What one name being written holds until it is archived. Every descriptor of the name shares it.
struct WalArchiveView::Pending {
  std::mutex mutex;
  std::string path;
  WalPath wal;
  Bytes data;
  std::uint64_t version = 0;      // bumped by every change
  std::uint64_t archived = 0;     // the version last archived
  std::uint64_t failed = 0;       // the version whose archiving failed (0: none), and how
  std::optional<FsError> failure;
  std::unique_ptr<WalStream> stream;  // SHA-1 and compression so far, while writes come in order
  Caller owner{};
  mode_t mode = 0640;
  struct timespec mtime {};

  struct stat attributes() const {
    struct stat st {};
    st.st_mode = S_IFREG | (mode & 07777);
    st.st_nlink = 1;
    st.st_uid = owner.uid;
    st.st_gid = owner.gid;
    st.st_size = static_cast<off_t>(data.size());
    st.st_blocks = (st.st_size + 511) / 512;
    st.st_blksize = 4096;
    st.st_ino = inodeOf(path);
    st.st_mtim = st.st_ctim = st.st_atim = mtime;
    return st;
  }
  void changed() {
    version++;
    mtime = now();
  }
  // Empties the content and starts hashing and compressing what comes next, in a buffer that never moves.
  void restartStream(std::unique_ptr<WalStream> next) {
    stream.reset();  // waits for its threads, which read `data`
    if (data.capacity() < kMaxWalFileSize) data = SegmentBuffers::instance().take();
    data.clear();
    stream = std::move(next);
  }
  ~Pending() {
    stream.reset();
    SegmentBuffers::instance().give(std::move(data));
  }
};

class WalArchiveView::InboxFile final : public ViewFile {
 public:
  // `writer`: opened for writing; only such a descriptor's close archives (a reader's close must not archive what
  // a writer has not finished).
  InboxFile(WalArchiveView& view, std::shared_ptr<Pending> pending, bool writer)
      : view_(view), pending_(std::move(pending)), writer_(writer) {}

  struct stat attributes() override {
    std::lock_guard lock(pending_->mutex);
    return pending_->attributes();
  }

  std::size_t read(std::uint64_t offset, MutableByteView out) override {
    std::lock_guard lock(pending_->mutex);
    const Bytes& data = pending_->data;
    if (offset >= data.size()) return 0;
    const std::size_t n = std::min<std::size_t>(out.size(), data.size() - offset);
    std::memcpy(out.data(), data.data() + offset, n);
    return n;
  }

  // The writeback cache may deliver writes out of order: a hole is zero-filled until its write arrives.
  void write(std::uint64_t offset, ByteView data) override {
    if (offset + data.size() > kMaxWalFileSize)
      throw FsError(EFBIG, "'" + pending_->path + "' is larger than the WAL inbox accepts (" +
                               std::to_string(kMaxWalFileSize >> 20) + " MiB); archive it with pgbr archive-push");
    std::lock_guard lock(pending_->mutex);
    Bytes& content = pending_->data;
    if (content.capacity() == 0) content = SegmentBuffers::instance().take();  // a whole segment, no reallocation
    // The stream's threads read what it was fed: changing that part ends the stream (close() then does it all).
    if (pending_->stream && offset < pending_->stream->fed()) pending_->stream.reset();
    if (offset == content.size()) {
      content.insert(content.end(), data.begin(), data.end());  // the usual append: no zero-fill first
    } else {
      if (offset + data.size() > content.size()) content.resize(offset + data.size());
      std::memcpy(content.data() + offset, data.data(), data.size());
    }
    pending_->changed();
    if (pending_->stream) pending_->stream->written(content, offset, data.size());
  }

  void truncate(std::uint64_t size) override {
    if (size > kMaxWalFileSize) throw FsError(EFBIG, "'" + pending_->path + "' would exceed the WAL inbox limit");
    std::lock_guard lock(pending_->mutex);
    if (size == 0) {
      pending_->restartStream(view_.newStream());
    } else {
      pending_->stream.reset();
      pending_->data.resize(size);
    }
    pending_->changed();
  }

  // Archives what was written since the last close; a close with nothing new returns at once (or repeats the
  // failure of the same content without trying again).
  void flush() override {
    if (!writer_) return;
    std::lock_guard lock(pending_->mutex);
    if (pending_->version == pending_->archived) return;
    if (pending_->version == pending_->failed) throw *pending_->failure;
    view_.archive(*pending_);
  }

 private:
  WalArchiveView& view_;
  std::shared_ptr<Pending> pending_;
  bool writer_;
};

class WalArchiveView::ArchivedFile final : public ViewFile {
 public:
  explicit ArchivedFile(Found found) : found_(std::move(found)) {}

  struct stat attributes() override { return found_.attributes; }

  std::size_t read(std::uint64_t offset, MutableByteView out) override {
    const Bytes& data = *found_.plain;
    if (offset >= data.size()) return 0;
    const std::size_t n = std::min<std::size_t>(out.size(), data.size() - offset);
    std::memcpy(out.data(), data.data() + offset, n);
    return n;
  }

 private:
  Found found_;
};

WalArchiveView::WalArchiveView(PgbrFs& fs, WalViewOptions options) : fs_(fs), options_(options) {}

WalArchiveView::~WalArchiveView() = default;

std::unique_ptr<WalStream> WalArchiveView::newStream() const {
  return std::make_unique<WalStream>(options_.compressType, options_.compressLevel);
}

bool WalArchiveView::serves(const std::string& path) const { return parseWalPath(path).has_value(); }

std::shared_ptr<WalArchiveView::Pending> WalArchiveView::pendingFor(const std::string& path) {
  std::lock_guard lock(pendingMutex_);
  const auto it = pending_.find(path);
  if (it == pending_.end()) return nullptr;
  std::shared_ptr<Pending> pending = it->second.lock();
  if (!pending) pending_.erase(it);
  return pending;
}

std::shared_ptr<WalArchiveView::Pending> WalArchiveView::makePending(const std::string& path, const WalPath& wal,
                                                                     mode_t mode, Caller caller) {
  std::lock_guard lock(pendingMutex_);
  if (const auto it = pending_.find(path); it != pending_.end())
    if (std::shared_ptr<Pending> pending = it->second.lock()) return pending;
  auto pending = std::make_shared<Pending>();
  pending->path = path;
  pending->wal = wal;
  pending->owner = caller;
  pending->mode = mode & 07777;
  pending->mtime = now();
  pending_[path] = pending;
  return pending;
}

std::shared_ptr<const backup::ArchiveInfo> WalArchiveView::archiveInfo(const std::string& stanza) {
  MountStorage storage(fs_, kDaemon);
  const std::string path = backup::archiveInfoPath(stanza);
  const std::optional<backup::StorageInfo> main = storage.info(path);
  if (!main && !storage.info(path + ".copy")) return nullptr;
  struct stat st {};
  if (main) {
    st = fs_.getattr(path, nullptr);
    std::lock_guard lock(infoMutex_);
    const auto it = infos_.find(stanza);
    if (it != infos_.end() && it->second.inode == st.st_ino && it->second.size == st.st_size &&
        it->second.mtime.tv_sec == st.st_mtim.tv_sec && it->second.mtime.tv_nsec == st.st_mtim.tv_nsec)
      return it->second.info;
  }
  auto info = std::make_shared<const backup::ArchiveInfo>(
      backup::loadStanzaArchiveInfo(storage, stanza, fs_.backing().root()));
  if (main) {
    std::lock_guard lock(infoMutex_);
    infos_.insert_or_assign(stanza, CachedInfo{st.st_ino, st.st_size, st.st_mtim, info});
  }
  return info;
}

bool WalArchiveView::archived(const WalPath& wal) {
  const std::shared_ptr<const backup::ArchiveInfo> info = archiveInfo(wal.stanza);
  if (!info) return false;
  MountStorage storage(fs_, kDaemon);
  return backup::locateArchivedWal(storage, wal.stanza, *info, wal.name, std::nullopt).has_value();
}

std::optional<WalArchiveView::Found> WalArchiveView::lookup(const WalPath& wal) {
  const std::string path = "archive/" + wal.stanza + "/" + wal.name;
  try {
    const std::shared_ptr<const backup::ArchiveInfo> info = archiveInfo(wal.stanza);
    if (!info) return std::nullopt;
    MountStorage storage(fs_, kDaemon);
    const std::optional<backup::ArchivedWalFile> file =
        backup::locateArchivedWal(storage, wal.stanza, *info, wal.name, std::nullopt);
    if (!file) return std::nullopt;
    Found found;
    try {
      found.attributes = fs_.getattr(file->repoFile, nullptr);
    } catch (const FsError& e) {
      if (e.errorNumber() == ENOENT) return std::nullopt;  // expired between listing and stat
      throw;
    }
    const struct stat& st = found.attributes;
    const std::string key = file->repoFile + "@" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) +
                            ":" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    found.plain = plain_.find(key);
    if (!found.plain) {
      const std::optional<Bytes> stored = storage.get(file->repoFile);
      if (!stored) return std::nullopt;
      found.plain = std::make_shared<const Bytes>(backup::decodeArchivedWal(*file, *stored));
      plain_.store(key, found.plain);
    }
    found.attributes.st_size = static_cast<off_t>(found.plain->size());
    found.attributes.st_blocks = (found.attributes.st_size + 511) / 512;
    return found;
  } catch (const FsError&) {
    throw;
  } catch (const std::exception& e) {
    // Checksum mismatch, a damaged compressed file, duplicates, an unreadable archive.info: the bridge logs it.
    throw FsError(EIO, "unable to read WAL file '" + path + "' from the archive: " + describe(e));
  }
}

struct stat WalArchiveView::getattr(const std::string& path) {
  // A name being written through the mount is what was written so far.
  if (std::shared_ptr<Pending> pending = pendingFor(path)) {
    std::lock_guard lock(pending->mutex);
    return pending->attributes();
  }
  const std::optional<Found> found = lookup(*parseWalPath(path));
  if (!found) throw FsError(ENOENT, "WAL file '" + path + "' is not in the archive");
  return found->attributes;
}

std::unique_ptr<ViewFile> WalArchiveView::open(const std::string& path, int flags, Caller caller) {
  const WalPath wal = *parseWalPath(path);
  if ((flags & O_ACCMODE) == O_RDONLY) {
    if (std::shared_ptr<Pending> pending = pendingFor(path)) return std::make_unique<InboxFile>(*this, pending, false);
    std::optional<Found> found = lookup(wal);
    if (!found) throw FsError(ENOENT, "WAL file '" + path + "' is not in the archive");
    return std::make_unique<ArchivedFile>(std::move(*found));
  }
  std::shared_ptr<Pending> pending = pendingFor(path);
  if (!pending) {
    // Opening an archived name for writing without O_TRUNC starts from its content.
    std::optional<Found> found;
    if ((flags & O_TRUNC) == 0) found = lookup(wal);
    pending = makePending(path, wal, found ? found->attributes.st_mode : 0640, caller);
    std::lock_guard lock(pending->mutex);
    if (found && pending->version == 0) pending->data = *found->plain;  // unchanged: not archived again at close
  }
  if ((flags & O_TRUNC) != 0) {
    std::lock_guard lock(pending->mutex);
    pending->restartStream(newStream());
    pending->changed();
  }
  return std::make_unique<InboxFile>(*this, std::move(pending), true);
}

std::unique_ptr<ViewFile> WalArchiveView::create(const std::string& path, mode_t mode, int flags, Caller caller) {
  const WalPath wal = *parseWalPath(path);
  std::shared_ptr<Pending> pending = pendingFor(path);
  if ((flags & O_EXCL) != 0 && (pending || archived(wal))) throw FsError(EEXIST, "'" + path + "' exists");
  if (!pending) pending = makePending(path, wal, mode, caller);
  std::lock_guard lock(pending->mutex);
  pending->restartStream(newStream());
  pending->changed();  // a created file is archived at close even when nothing was written
  return std::make_unique<InboxFile>(*this, std::move(pending), true);
}

// Called with pending.mutex held.
void WalArchiveView::archive(Pending& pending) {
  const std::uint64_t version = pending.version;
  const auto started = std::chrono::steady_clock::now();
  try {
    std::lock_guard oneAtATime(pushMutex_);
    const std::shared_ptr<const backup::ArchiveInfo> info = archiveInfo(pending.wal.stanza);
    if (!info)
      throw CommandError(ErrorCode::FileMissing,
                         "stanza '" + pending.wal.stanza + "' has no archive.info in this repository",
                         "create the stanza first: pgbr stanza-create --stanza=" + pending.wal.stanza);
    MountStorage storage(fs_, pending.owner);  // what the inbox stores belongs to whoever wrote the file
    backup::ArchivePushOptions push;
    push.compressType = options_.compressType;
    push.compressLevel = options_.compressLevel;
    std::optional<backup::PreparedWal> prepared;
    if (pending.stream) prepared = pending.stream->finish(pending.data);
    pending.stream.reset();
    const backup::ArchivePushResult result = backup::archivePushBytes(
        storage, pending.wal.stanza, *info, pending.wal.name, pending.data, push, prepared ? &*prepared : nullptr);
    if (result.outcome == backup::ArchivePushResult::Outcome::AlreadyExists)
      log(LogLevel::Warn, "WAL file '" + pending.path + "' is already archived with the same checksum as '" +
                              result.repoFile + "': nothing written (valid when archive_command is retried)");
    else
      log(LogLevel::Detail, "archived '" + pending.path + "' as '" + result.repoFile + "' in " +
                                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::steady_clock::now() - started)
                                                   .count()) +
                                " ms" + (prepared ? "" : " (hashed and compressed at close)"));
  } catch (const std::exception& e) {
    const int error = errnoForPush(e);
    FsError failure(error, "WAL file '" + pending.path + "' was not archived (close() fails with " +
                               std::strerror(error) + "): " + describe(e) +
                               "; the repository is unchanged, fix the cause and copy the file again");
    // The bridge logs errors worth logging (EIO, ENOSPC, ...); the others are ordinary results to it.
    if (!worthLogging(error)) log(LogLevel::Error, std::string("close '") + pending.path + "': " + failure.what());
    pending.failed = version;
    pending.failure = failure;
    throw failure;
  }
  pending.archived = version;
  pending.failed = 0;
  pending.failure.reset();
}

}  // namespace pgbr::fs
