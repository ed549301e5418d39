#include "crypto/cipher_file_editor.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "crypto/crypto_error.h"
#include "crypto/random_access_decryptor.h"

namespace pgbr::crypto {

namespace {

constexpr char kMagic[] = "Salted__";
constexpr std::size_t kBlock = offsets::kBlockSize;
// Work is done in chunks of this many bytes, so memory stays bounded whatever the file size.
constexpr std::size_t kChunk = 1 << 20;

std::uint64_t blockOffset(std::uint64_t block) { return offsets::cipherOffsetOfBlock(block); }

void initCtx(EvpCipherCtx& ctx, const DerivedKey& key, bool encrypt) {
  ctx = newCipherCtx();
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key.key.data(), key.iv.data(), encrypt ? 1 : 0) != 1)
    throwOpenSslError("EVP_CipherInit_ex");
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
}

void runBlocks(EVP_CIPHER_CTX* ctx, const std::uint8_t* iv, const std::uint8_t* in, std::size_t size,
               std::uint8_t* out) {
  int produced = 0;
  if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv, -1) != 1) throwOpenSslError("EVP_CipherInit_ex");
  if (EVP_CipherUpdate(ctx, out, &produced, in, static_cast<int>(size)) != 1 ||
      static_cast<std::size_t>(produced) != size)
    throwOpenSslError("EVP_CipherUpdate");
}

}  // namespace

CipherFileEditor::CipherFileEditor(const Secret& pass, CipherFileIo& io, ByteView salt) : io_(&io) {
  deriveKey(pass, salt, key_);
  initCtx(encryptCtx_, key_, true);
  initCtx(decryptCtx_, key_, false);
  std::memcpy(chain_.data(), key_.iv.data(), kBlock);
}

CipherFileEditor::~CipherFileEditor() {
  Secret::wipe(tail_.data(), tail_.size());
  for (auto& [offset, data] : pending_) Secret::wipe(data.data(), data.size());
}

std::unique_ptr<CipherFileEditor> CipherFileEditor::create(const Secret& pass, CipherFileIo& io) {
  std::uint8_t header[offsets::kHeaderSize];
  std::memcpy(header, kMagic, offsets::kMagicSize);
  randomBytes(MutableByteView(header + offsets::kMagicSize, offsets::kSaltSize));
  std::unique_ptr<CipherFileEditor> editor(
      new CipherFileEditor(pass, io, ByteView(header + offsets::kMagicSize, offsets::kSaltSize)));
  io.truncate(0);
  io.writeAt(0, ByteView(header, sizeof(header)));
  return editor;
}

std::unique_ptr<CipherFileEditor> CipherFileEditor::open(const Secret& pass, CipherFileIo& io) {
  const std::uint64_t cipherSize = io.size();
  std::uint8_t header[offsets::kHeaderSize] = {};
  io.readAt(0, MutableByteView(header, static_cast<std::size_t>(std::min<std::uint64_t>(cipherSize, sizeof(header)))));
  // Validates magic, length and padding with the same rules as every reader.
  RandomAccessDecryptor reader(pass, ByteView(header, static_cast<std::size_t>(std::min<std::uint64_t>(cipherSize, 16))),
                               cipherSize);
  auto readAt = [&io](std::uint64_t offset, MutableByteView out) { io.readAt(offset, out); };
  const std::uint64_t plainSize = reader.plainSize(readAt);

  std::unique_ptr<CipherFileEditor> editorPtr(
      new CipherFileEditor(pass, io, ByteView(header + offsets::kMagicSize, offsets::kSaltSize)));
  CipherFileEditor& editor = *editorPtr;
  const std::uint64_t blocks = offsets::cipherBlockCount(cipherSize);
  editor.committedBlocks_ = blocks - 1;  // the last block holds the tail and the padding
  editor.tailSize_ = static_cast<std::size_t>(plainSize - editor.committedBlocks_ * kBlock);
  if (editor.committedBlocks_ > 0) editor.cipherBlockBefore(editor.committedBlocks_, editor.chain_.data());
  std::uint8_t last[kBlock];
  io.readAt(blockOffset(editor.committedBlocks_), MutableByteView(last, kBlock));
  std::uint8_t plain[kBlock];
  runBlocks(editor.decryptCtx_.get(), editor.chain_.data(), last, kBlock, plain);
  std::memcpy(editor.tail_.data(), plain, editor.tailSize_);
  Secret::wipe(plain, sizeof(plain));
  editor.finished_ = true;  // the file on disk is complete until the first change
  return editorPtr;
}

std::uint64_t CipherFileEditor::size() const {
  const std::uint64_t committed = committedSize();
  if (pending_.empty()) return committed;
  const auto& [offset, data] = *pending_.rbegin();
  return std::max(committed, offset + data.size());
}

// The ciphertext of block `block - 1` (the CBC IV of `block`), or the derived IV for block 0.
void CipherFileEditor::cipherBlockBefore(std::uint64_t block, std::uint8_t* iv) {
  if (block == 0) {
    std::memcpy(iv, key_.iv.data(), kBlock);
  } else {
    io_->readAt(blockOffset(block - 1), MutableByteView(iv, kBlock));
  }
}

void CipherFileEditor::unfinish() {
  if (!finished_) return;
  io_->truncate(blockOffset(committedBlocks_));  // drop the padded final block; the tail is still in memory
  finished_ = false;
}

void CipherFileEditor::append(ByteView data) {
  unfinish();
  // Ciphertext needs no wiping, and the buffer is kept between calls: appends are the hot path of every write.
  std::vector<std::uint8_t>& out = cipherScratch_;
  while (!data.empty()) {
    if (tailSize_ > 0 || data.size() < kBlock) {
      // Complete the partial block first (or keep a short remainder as the new tail).
      const std::size_t take = std::min(kBlock - tailSize_, data.size());
      std::memcpy(tail_.data() + tailSize_, data.data(), take);
      tailSize_ += take;
      data = data.subspan(take);
      if (tailSize_ < kBlock) break;
      std::uint8_t cipher[kBlock];
      runBlocks(encryptCtx_.get(), chain_.data(), tail_.data(), kBlock, cipher);
      io_->writeAt(blockOffset(committedBlocks_), ByteView(cipher, kBlock));
      std::memcpy(chain_.data(), cipher, kBlock);
      committedBlocks_++;
      tailSize_ = 0;
      continue;
    }
    const std::size_t whole = std::min(data.size() - data.size() % kBlock, kChunk);
    if (out.size() < whole) out.resize(kChunk);
    runBlocks(encryptCtx_.get(), chain_.data(), data.data(), whole, out.data());
    io_->writeAt(blockOffset(committedBlocks_), ByteView(out.data(), whole));
    std::memcpy(chain_.data(), out.data() + whole - kBlock, kBlock);
    committedBlocks_ += whole / kBlock;
    data = data.subspan(whole);
  }
}

void CipherFileEditor::appendZeros(std::uint64_t count) {
  static const std::vector<std::uint8_t> zeros(kChunk, 0);
  while (count > 0) {
    const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(count, kChunk));
    append(ByteView(zeros.data(), piece));
    count -= piece;
  }
}

// Overwrites [offset, offset + data.size()) inside the committed data. CBC chains forward, so every block from
// the first touched one to the end is decrypted and encrypted again, a chunk at a time.
void CipherFileEditor::rewrite(std::uint64_t offset, ByteView data) {
  const std::uint64_t end = offset + data.size();
  const std::uint64_t diskBytes = committedBlocks_ * kBlock;
  if (offset < diskBytes) {
    unfinish();
    std::uint64_t block = offset / kBlock;
    std::uint8_t oldChain[kBlock], newChain[kBlock];
    cipherBlockBefore(block, oldChain);
    std::memcpy(newChain, oldChain, kBlock);
    std::vector<std::uint8_t> cipher, plain;
    while (block < committedBlocks_) {
      const std::size_t blocks = static_cast<std::size_t>(std::min<std::uint64_t>(committedBlocks_ - block, kChunk / kBlock));
      const std::size_t bytes = blocks * kBlock;
      cipher.resize(bytes);
      plain.resize(bytes);
      io_->readAt(blockOffset(block), cipher);
      runBlocks(decryptCtx_.get(), oldChain, cipher.data(), bytes, plain.data());
      std::memcpy(oldChain, cipher.data() + bytes - kBlock, kBlock);
      // Overlay the part of the new data that falls in this chunk.
      const std::uint64_t chunkStart = block * kBlock, chunkEnd = chunkStart + bytes;
      if (offset < chunkEnd && end > chunkStart) {
        const std::uint64_t from = std::max(offset, chunkStart), to = std::min(end, chunkEnd);
        std::memcpy(plain.data() + (from - chunkStart), data.data() + (from - offset), static_cast<std::size_t>(to - from));
      }
      runBlocks(encryptCtx_.get(), newChain, plain.data(), bytes, cipher.data());
      std::memcpy(newChain, cipher.data() + bytes - kBlock, kBlock);
      io_->writeAt(blockOffset(block), cipher);
      block += blocks;
    }
    std::memcpy(chain_.data(), newChain, kBlock);
    Secret::wipe(plain.data(), plain.size());
  }
  // The tail is plaintext in memory: overlay directly.
  if (end > diskBytes) {
    const std::uint64_t from = std::max(offset, diskBytes);
    std::memcpy(tail_.data() + (from - diskBytes), data.data() + (from - offset), static_cast<std::size_t>(end - from));
    if (finished_) unfinish();
  }
}

void CipherFileEditor::applyPending() {
  while (!pending_.empty()) {
    auto node = pending_.extract(pending_.begin());
    pendingBytes_ -= node.mapped().size();
    const std::uint64_t committed = committedSize();
    if (node.key() > committed) appendZeros(node.key() - committed);
    append(node.mapped());
    recycle(std::move(node.mapped()));
  }
}

void CipherFileEditor::write(std::uint64_t offset, ByteView data) {
  if (data.empty()) return;
  const std::uint64_t end = offset + data.size();
  cutPending(offset, end);  // newer data wins over writes still waiting
  std::uint64_t committed = committedSize();
  if (offset > committed) {
    if (pendingBytes_ + data.size() <= maxPendingBytes_) {
      pending_.emplace(offset, pendingBuffer(data));
      pendingBytes_ += data.size();
      return;
    }
    applyPending();  // too much waiting: fill the holes with zeros and write in place
    committed = committedSize();
    if (offset > committed) appendZeros(offset - committed);
  }
  if (offset < committed) {
    const std::size_t inside = static_cast<std::size_t>(std::min<std::uint64_t>(end, committed) - offset);
    rewrite(offset, data.first(inside));
    data = data.subspan(inside);
  }
  if (!data.empty()) append(data);
  drainPending();
}

std::optional<std::uint64_t> CipherFileEditor::encryptAppend(std::uint64_t offset, ByteView data,
                                                             std::vector<std::uint8_t>& cipher) {
  const std::size_t whole = data.size() - data.size() % kBlock;
  if (whole == 0 || tailSize_ != 0 || finished_ || offset != committedSize()) return std::nullopt;
  cutPending(offset, offset + data.size());  // newer data wins over writes still waiting
  if (cipher.size() < whole) cipher.resize(whole);
  runBlocks(encryptCtx_.get(), chain_.data(), data.data(), whole, cipher.data());
  std::memcpy(chain_.data(), cipher.data() + whole - kBlock, kBlock);
  const std::uint64_t at = blockOffset(committedBlocks_);
  committedBlocks_ += whole / kBlock;
  if (whole < data.size()) {
    tailSize_ = data.size() - whole;
    std::memcpy(tail_.data(), data.data() + whole, tailSize_);
  }
  drainPending();  // waiting writes that now continue the data go to disk after the caller's blocks: no overlap
  return at;
}

// Waiting writes are copied into buffers kept from earlier ones: fresh memory costs a page fault per 4 KiB, more
// than the copy itself.
Bytes CipherFileEditor::pendingBuffer(ByteView data) {
  if (spareBuffers_.empty()) return Bytes(data.begin(), data.end());
  Bytes buffer = std::move(spareBuffers_.back());
  spareBuffers_.pop_back();
  buffer.assign(data.begin(), data.end());
  return buffer;
}

void CipherFileEditor::recycle(Bytes&& buffer) {
  Secret::wipe(buffer.data(), buffer.size());  // plaintext
  if (spareBuffers_.size() >= kMaxSpareBuffers) return;
  buffer.clear();
  spareBuffers_.push_back(std::move(buffer));
}

// Removes [offset, end) from the waiting writes, keeping the parts of them outside that range.
void CipherFileEditor::cutPending(std::uint64_t offset, std::uint64_t end) {
  auto it = pending_.upper_bound(offset);
  if (it != pending_.begin()) --it;
  while (it != pending_.end() && it->first < end) {
    const std::uint64_t pStart = it->first, pEnd = pStart + it->second.size();
    if (pEnd <= offset) {
      ++it;
      continue;
    }
    Bytes old = std::move(it->second);
    it = pending_.erase(it);
    pendingBytes_ -= old.size();
    if (pStart < offset) {
      pending_.emplace(pStart, Bytes(old.begin(), old.begin() + static_cast<std::ptrdiff_t>(offset - pStart)));
      pendingBytes_ += offset - pStart;
    }
    if (pEnd > end) {
      it = pending_.emplace(end, Bytes(old.begin() + static_cast<std::ptrdiff_t>(end - pStart), old.end())).first;
      pendingBytes_ += pEnd - end;
    }
    Secret::wipe(old.data(), old.size());
  }
}

// Appends the waiting writes that now continue the committed data.
void CipherFileEditor::drainPending() {
  while (!pending_.empty() && pending_.begin()->first == committedSize()) {
    auto node = pending_.extract(pending_.begin());
    pendingBytes_ -= node.mapped().size();
    append(node.mapped());
    recycle(std::move(node.mapped()));
  }
}

void CipherFileEditor::truncate(std::uint64_t size) {
  // Waiting writes past the new end disappear; the rest become real.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->first >= size) {
      pendingBytes_ -= it->second.size();
      it = pending_.erase(it);
    } else {
      if (it->first + it->second.size() > size) {
        pendingBytes_ -= it->first + it->second.size() - size;
        it->second.resize(static_cast<std::size_t>(size - it->first));
      }
      ++it;
    }
  }
  applyPending();
  const std::uint64_t committed = committedSize();
  if (size == committed) return;
  if (size > committed) {
    appendZeros(size - committed);
    return;
  }
  unfinish();
  const std::uint64_t diskBytes = committedBlocks_ * kBlock;
  if (size >= diskBytes) {
    tailSize_ = static_cast<std::size_t>(size - diskBytes);
    return;
  }
  // The new end falls inside a block on disk: that block's plaintext becomes the tail.
  const std::uint64_t block = size / kBlock;
  std::uint8_t iv[kBlock], cipher[kBlock];
  cipherBlockBefore(block, iv);
  io_->readAt(blockOffset(block), MutableByteView(cipher, kBlock));
  runBlocks(decryptCtx_.get(), iv, cipher, kBlock, tail_.data());
  tailSize_ = static_cast<std::size_t>(size - block * kBlock);
  committedBlocks_ = block;
  std::memcpy(chain_.data(), iv, kBlock);
  io_->truncate(blockOffset(committedBlocks_));
}

std::size_t CipherFileEditor::read(std::uint64_t offset, MutableByteView out) {
  const std::uint64_t total = size();
  if (offset >= total || out.empty()) return 0;
  const std::size_t length = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), total - offset));
  const std::uint64_t diskBytes = committedBlocks_ * kBlock, committed = committedSize();
  std::size_t done = 0;

  // 1. Blocks on disk, a bounded chunk at a time.
  std::vector<std::uint8_t> cipher, plain;
  while (offset + done < diskBytes && done < length) {
    const std::uint64_t pos = offset + done;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>({length - done, diskBytes - pos, kChunk}));
    const offsets::CipherSpan span = offsets::cipherSpanForPlain(pos, want);
    std::uint8_t iv[kBlock];
    cipherBlockBefore(span.firstBlock, iv);
    const std::size_t bytes = static_cast<std::size_t>(span.blockCount * kBlock);
    cipher.resize(bytes);
    plain.resize(bytes);
    io_->readAt(blockOffset(span.firstBlock), cipher);
    runBlocks(decryptCtx_.get(), iv, cipher.data(), bytes, plain.data());
    std::memcpy(out.data() + done, plain.data() + span.plainSkip, want);
    done += want;
  }
  Secret::wipe(plain.data(), plain.size());
  // 2. The tail in memory.
  if (done < length && offset + done < committed) {
    const std::uint64_t pos = offset + done;
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(length - done, committed - pos));
    std::memcpy(out.data() + done, tail_.data() + (pos - diskBytes), take);
    done += take;
  }
  // 3. Past the committed data: zeros, with the waiting writes laid over them.
  if (done < length) {
    const std::uint64_t from = offset + done, to = offset + length;
    std::memset(out.data() + done, 0, length - done);
    for (const auto& [pStart, data] : pending_) {
      const std::uint64_t pEnd = pStart + data.size();
      if (pEnd <= from || pStart >= to) continue;
      const std::uint64_t a = std::max(from, pStart), b = std::min(to, pEnd);
      std::memcpy(out.data() + (a - offset), data.data() + (a - pStart), static_cast<std::size_t>(b - a));
    }
  }
  return length;
}

void CipherFileEditor::finish() {
  applyPending();
  if (finished_) return;
  std::uint8_t block[kBlock], cipher[kBlock];
  const std::uint8_t pad = static_cast<std::uint8_t>(kBlock - tailSize_);  // PKCS#7: 1..16, never 0
  std::memcpy(block, tail_.data(), tailSize_);
  std::memset(block + tailSize_, pad, pad);
  runBlocks(encryptCtx_.get(), chain_.data(), block, kBlock, cipher);
  Secret::wipe(block, sizeof(block));
  io_->writeAt(blockOffset(committedBlocks_), ByteView(cipher, kBlock));
  finished_ = true;
}

}  // namespace pgbr::crypto
