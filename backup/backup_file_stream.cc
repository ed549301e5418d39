#include "backup/backup_file_stream.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "backup/backup_error.h"
#include "backup/format_error.h"
#include "backup/pipeline.h"
#include "backup/repo_filters.h"
#include "backup/stanza_info.h"
#include "backup/storage_error.h"

namespace pgbr::backup {

CompressType manifestCompressType(const Manifest& manifest) {
  const std::string name = manifest.options.compressType.value_or(manifest.options.compress ? "gz" : "none");
  const std::optional<CompressType> type = parseCompressType(name);
  if (!type)
    throw FormatError("backup set " + manifest.backup.label + " has unknown compress type '" + name + "'",
                      "this pgbr does not read that compression; restore the set with pgbackrest");
  return *type;
}

StoredBackupFile storedBackupFile(const Manifest& manifest, const ManifestFile& file, const std::string& stanza) {
  StoredBackupFile stored;
  stored.name = file.name;
  stored.compressType = manifestCompressType(manifest);
  const ManifestFileLocation location = manifest.fileLocation(file, compressExtension(stored.compressType));
  stored.repoPath = stanzaBackupPath(stanza) + "/" + location.path;
  stored.offset = location.offset;
  if (file.bundleId) stored.length = location.size;
  stored.raw = manifest.backup.bundleRaw.value_or(false);
  stored.blockIncremental = file.blockIncrMapSize.has_value();
  stored.size = file.size;
  stored.checksum = file.checksum.value_or(kEmptySha1);
  return stored;
}

// The stored bytes: [offset, offset + length) of the file, or from offset to its end.
class BackupFileReader::RangeSource final : public Source {
 public:
  RangeSource(const BackupFileReader& owner, std::uint64_t offset, std::optional<std::uint64_t> length)
      : owner_(owner), position_(offset), remaining_(length.value_or(UINT64_MAX)), bounded_(length.has_value()) {}

  std::size_t read(MutableByteView out) override {
    if (remaining_ == 0) return 0;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), remaining_));
    ssize_t n;
    do {
      n = ::pread(owner_.fd_.get(), out.data(), want, static_cast<off_t>(position_));
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw StorageError::fromErrno("unable to read repository file " + owner_.describeRepoFile(), errno);
    if (n == 0 && bounded_)
      throw FormatError("repository file " + owner_.describeRepoFile() + " ends " + std::to_string(remaining_) +
                        " bytes before the end of the bundle member");
    position_ += static_cast<std::uint64_t>(n);
    remaining_ -= static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }

 private:
  const BackupFileReader& owner_;
  std::uint64_t position_;
  std::uint64_t remaining_;
  bool bounded_;
};

// One pass of decoding from the start of the stored file: source -> decrypt -> decompress -> SHA-1 -> size.
struct BackupFileReader::Decoder {
  Decoder(const BackupFileReader& owner, std::size_t bufferSize)
      : source(owner, owner.file_.offset, owner.file_.length),
        pipeline(source, bufferSize),
        meters(addRepoReadFilters(pipeline, {owner.file_.compressType, owner.cipher_, owner.file_.raw})) {}

  RangeSource source;
  Pipeline pipeline;
  RepoReadMeters meters;
  bool ended = false;
  bool verified = false;
};

BackupFileReader::BackupFileReader(const PosixStorage& repo, StoredBackupFile file, crypto::CipherSpec cipher)
    : repo_(repo), file_(std::move(file)), cipher_(std::move(cipher)) {
  if (file_.blockIncremental)
    throw UnsupportedError("'" + file_.name + "' is stored as a block-incremental map (" + describeRepoFile() +
                               "), which pgbr does not read",
                           "restore this backup set with pgbackrest");
  // A file of size 0 is not read (a bundled one is not even stored).
  if (file_.size == 0) return;
  fd_ = UniqueFd(repo_.openBeneath(file_.repoPath, O_RDONLY | O_CLOEXEC));
  if (!fd_ && errno == ENOENT)  // the manifest lists the file: its absence is damage, not "no such file"
    throw FormatError("repository file " + describeRepoFile() + " holding '" + file_.name + "' is missing",
                      "the backup set is damaged; run pgbackrest verify, or restore another backup set");
  if (!fd_)
    throw StorageError::fromErrno(
        "unable to open repository file " + describeRepoFile() + " holding '" + file_.name + "'", errno);
  ::posix_fadvise(fd_.get(), static_cast<off_t>(file_.offset), static_cast<off_t>(file_.length.value_or(0)),
                  POSIX_FADV_SEQUENTIAL);
  windowSize_ = static_cast<std::size_t>(std::min<std::uint64_t>(kWindow, file_.size));
  window_.reset(new std::uint8_t[std::max<std::size_t>(windowSize_, 1)]);
}

BackupFileReader::~BackupFileReader() = default;

std::string BackupFileReader::describeRepoFile() const {
  std::string text = "'" + repo_.root() + "/" + file_.repoPath + "'";
  if (file_.length) text += " at offset " + std::to_string(file_.offset);
  return text;
}

void BackupFileReader::fail(const std::string& message) {
  failure_ = message;
  decoder_.reset();
  throw FormatError(message, "the repository file is corrupt; run pgbackrest verify, or restore another backup set");
}

void BackupFileReader::restart() {
  // Buffers no larger than the stored data: small files are the many, and each open builds a pipeline.
  std::uint64_t stored = file_.length.value_or(0);
  if (!file_.length) {
    struct stat st {};
    if (::fstat(fd_.get(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) > file_.offset)
      stored = static_cast<std::uint64_t>(st.st_size) - file_.offset;
  }
  const std::uint64_t bufferSize =
      std::clamp<std::uint64_t>(std::max(stored, file_.size), 16 * 1024, Pipeline::kDefaultBufferSize);
  decoder_.reset();
  decoder_ = std::make_unique<Decoder>(*this, static_cast<std::size_t>(bufferSize));
  windowStart_ = 0;
  windowLength_ = 0;
  restarts_++;
}

// Decodes more plaintext into the window, first dropping what lies before `keepFrom` when the window is full (but
// keeping half a window behind its end for reads that arrive out of order). Returns the bytes added; 0 at the end.
std::size_t BackupFileReader::decodeMore(std::uint64_t keepFrom) {
  if (decoder_->ended) return 0;
  if (windowLength_ == windowSize_) {
    const std::uint64_t end = windowStart_ + windowLength_;
    const std::uint64_t keep = std::max(windowStart_, std::min(keepFrom, end - windowSize_ / 2));
    const std::size_t drop = static_cast<std::size_t>(keep - windowStart_);
    if (drop == 0) return 0;
    std::memmove(window_.get(), window_.get() + drop, windowLength_ - drop);
    windowStart_ += drop;
    windowLength_ -= drop;
  }
  std::size_t n = 0;
  try {
    n = decoder_->pipeline.read(MutableByteView(window_.get() + windowLength_, windowSize_ - windowLength_));
  } catch (const std::exception& e) {
    fail("unable to read '" + file_.name + "' from repository file " + describeRepoFile() + ": " + e.what());
  }
  if (n == 0) decoder_->ended = true;
  windowLength_ += n;
  return n;
}

// The stream must end at the manifest size with the manifest's SHA-1.
void BackupFileReader::finishAndVerify() {
  Decoder& decoder = *decoder_;
  std::uint8_t scratch[4096];
  try {
    while (!decoder.ended)
      if (decoder.pipeline.read(MutableByteView(scratch, sizeof(scratch))) == 0) decoder.ended = true;
  } catch (const std::exception& e) {
    fail("unable to read '" + file_.name + "' from repository file " + describeRepoFile() + ": " + e.what());
  }
  const std::uint64_t size = decoder.meters.size.size();
  const std::string sha = decoder.meters.checksum.hex();
  if (size != file_.size || sha != file_.checksum)
    fail("'" + file_.name + "' read from repository file " + describeRepoFile() + " has checksum '" + sha +
         "' and size " + std::to_string(size) + ", but the backup manifest records checksum '" + file_.checksum +
         "' and size " + std::to_string(file_.size));
  decoder.verified = true;
}

std::size_t BackupFileReader::read(std::uint64_t offset, MutableByteView out) {
  if (failure_)
    throw FormatError(*failure_, "the repository file is corrupt; run pgbackrest verify, or restore another backup set");
  if (offset >= file_.size || out.empty()) return 0;
  const std::size_t want = static_cast<std::size_t>(
      std::min<std::uint64_t>({out.size(), file_.size - offset, windowSize_}));
  if (!decoder_ || offset < windowStart_) restart();
  while (windowStart_ + windowLength_ < offset + want)
    if (decodeMore(offset) == 0) break;
  const std::uint64_t end = windowStart_ + windowLength_;
  // Reaching the end (or a stream that ended early) settles whether the file is what the manifest says.
  if ((end >= file_.size || decoder_->ended) && !decoder_->verified) finishAndVerify();
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(want, end - offset));
  std::memcpy(out.data(), window_.get() + (offset - windowStart_), n);
  return n;
}

}  // namespace pgbr::backup
