#include "fs/content_editor.h"

#include "crypto/cipher_file_editor.h"

namespace pgbr::fs {

namespace {

class EncryptedContent : public ContentEditor {
 public:
  EncryptedContent(const crypto::CipherSpec& spec, int fd, const std::string& name, bool create) : io_(fd, name) {
    editor_ = create ? crypto::CipherFileEditor::create(spec.pass(), io_) : crypto::CipherFileEditor::open(spec.pass(), io_);
  }
  std::uint64_t size() const override { return editor_->size(); }
  std::optional<std::uint64_t> streamingOffset() const override { return editor_->streamingOffset(); }
  void write(std::uint64_t offset, ByteView data) override { editor_->write(offset, data); }
  std::optional<Prepared> prepareAppend(std::uint64_t offset, ByteView data, std::vector<std::uint8_t>& scratch) override {
    const std::optional<std::uint64_t> at = editor_->encryptAppend(offset, data, scratch);
    if (!at) return std::nullopt;
    return Prepared{*at, ByteView(scratch.data(), data.size() - data.size() % crypto::offsets::kBlockSize)};
  }
  void truncate(std::uint64_t size) override { editor_->truncate(size); }
  std::size_t read(std::uint64_t offset, MutableByteView out) override { return editor_->read(offset, out); }
  void finish() override { editor_->finish(); }

 private:
  FdFileIo io_;
  std::unique_ptr<crypto::CipherFileEditor> editor_;
};

class PlainContent : public ContentEditor {
 public:
  PlainContent(int fd, const std::string& name, bool create) : io_(fd, name), fd_(fd), name_(name) {
    if (create) io_.truncate(0);
    size_ = io_.size();
  }
  std::uint64_t size() const override { return size_; }
  std::optional<std::uint64_t> streamingOffset() const override { return std::nullopt; }
  void write(std::uint64_t offset, ByteView data) override {
    io_.writeAt(offset, data);
    size_ = std::max(size_, offset + data.size());
  }
  // Plain writes stay under the caller's lock: concurrent positional writes of one range must land in order.
  std::optional<Prepared> prepareAppend(std::uint64_t, ByteView, std::vector<std::uint8_t>&) override { return std::nullopt; }
  void truncate(std::uint64_t size) override {
    io_.truncate(size);
    size_ = size;
  }
  std::size_t read(std::uint64_t offset, MutableByteView out) override {
    return preadFull(fd_, offset, out, name_);
  }
  void finish() override {}

 private:
  FdFileIo io_;
  int fd_;
  std::string name_;
  std::uint64_t size_ = 0;
};

}  // namespace

std::unique_ptr<ContentEditor> ContentEditor::create(const crypto::CipherSpec& spec, int fd, const std::string& name) {
  if (spec.encrypted()) return std::make_unique<EncryptedContent>(spec, fd, name, true);
  return std::make_unique<PlainContent>(fd, name, true);
}

std::unique_ptr<ContentEditor> ContentEditor::open(const crypto::CipherSpec& spec, int fd, const std::string& name) {
  if (spec.encrypted()) return std::make_unique<EncryptedContent>(spec, fd, name, false);
  return std::make_unique<PlainContent>(fd, name, false);
}

}  // namespace pgbr::fs
