// Edits a file in pgBackRest's cipher block format in place, with bounded memory and no plaintext on disk:
// appends stream through CBC; a write inside the file re-encrypts from the touched block to the end (CBC chains
// forward); truncation keeps the partial last block in memory. Writes that arrive ahead of the end (the kernel's
// writeback cache reorders them) wait in memory up to a bound, then holes are filled with zeros.
// The file on disk is a complete, valid cipher file after finish(); editing may continue afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/cipher_file_io.h"
#include "crypto/cipher_offsets.h"
#include "crypto/evp_handles.h"
#include "crypto/key_derivation.h"
#include "crypto/secret.h"

namespace pgbr::crypto {

class CipherFileEditor {
 public:
  // Writes held in memory while waiting for the bytes before them, per file. Past this, holes become zeros.
  static constexpr std::uint64_t kDefaultMaxPendingBytes = 64ull << 20;

  // A new, empty cipher file in `io` (which must be empty): fresh salt, header written now.
  static std::unique_ptr<CipherFileEditor> create(const Secret& pass, CipherFileIo& io);
  // Continues a complete cipher file already in `io` (validated: header, length, padding). Throws CryptoError.
  static std::unique_ptr<CipherFileEditor> open(const Secret& pass, CipherFileIo& io);

  CipherFileEditor(const CipherFileEditor&) = delete;
  CipherFileEditor& operator=(const CipherFileEditor&) = delete;
  ~CipherFileEditor();

  // Logical plaintext size, including writes still waiting in memory.
  std::uint64_t size() const;
  // The offset a write can start at without waiting in memory: the end of the data encrypted so far.
  std::uint64_t streamingOffset() const { return committedSize(); }
  // Writes `data` at plaintext `offset` (any offset: inside, at the end, or past it).
  void write(std::uint64_t offset, ByteView data);
  // The fast path of a sequential writer, so that a caller can write the ciphertext outside its own lock while the
  // next piece is encrypted. When `offset` is the end of the encrypted data and no partial block is held, encrypts
  // the whole blocks of `data` into `cipher` (resized to fit) and returns the cipher-file offset they belong at; a
  // remainder shorter than a block stays in memory. The editor counts those blocks as written: the caller must
  // write them there before anything else reads, rewrites, truncates or finishes the file. Returns nullopt, having
  // done nothing, when the write does not qualify (then call write()).
  std::optional<std::uint64_t> encryptAppend(std::uint64_t offset, ByteView data, std::vector<std::uint8_t>& cipher);
  // Sets the plaintext size; growth reads as zeros.
  void truncate(std::uint64_t size);
  // Reads plaintext; returns the bytes read (0 at or past the end).
  std::size_t read(std::uint64_t offset, MutableByteView out);
  // Makes the file on disk complete: pending writes applied, final block with PKCS#7 padding written.
  void finish();
  bool finished() const { return finished_; }
  void setMaxPendingBytes(std::uint64_t bytes) { maxPendingBytes_ = bytes; }
  std::uint64_t pendingBytes() const { return pendingBytes_; }

  // Not thread-safe: callers serialize all calls on one editor.

 private:
  CipherFileEditor(const Secret& pass, CipherFileIo& io, ByteView salt);

  std::uint64_t committedSize() const { return committedBlocks_ * offsets::kBlockSize + tailSize_; }
  void unfinish();
  void append(ByteView data);
  void appendZeros(std::uint64_t count);
  void rewrite(std::uint64_t offset, ByteView data);
  void cutPending(std::uint64_t offset, std::uint64_t end);
  void drainPending();
  Bytes pendingBuffer(ByteView data);
  void recycle(Bytes&& buffer);
  void applyPending();
  void cipherBlockBefore(std::uint64_t block, std::uint8_t* iv);
  void decryptBlocks(std::uint64_t firstBlock, const std::uint8_t* iv, const std::uint8_t* in, std::size_t size,
                     std::uint8_t* out);
  void encryptBlocks(const std::uint8_t* iv, const std::uint8_t* in, std::size_t size, std::uint8_t* out);

  CipherFileIo* io_;
  DerivedKey key_;
  EvpCipherCtx encryptCtx_;
  EvpCipherCtx decryptCtx_;
  std::uint64_t committedBlocks_ = 0;                  // whole blocks on disk after the header (no padding block)
  std::array<std::uint8_t, offsets::kBlockSize> tail_{};  // plaintext after the committed blocks
  std::size_t tailSize_ = 0;
  std::array<std::uint8_t, offsets::kBlockSize> chain_{};  // ciphertext of the last committed block (or the IV)
  std::vector<std::uint8_t> cipherScratch_;         // reused output buffer of append()
  std::map<std::uint64_t, Bytes> pending_;             // writes past the end, by offset, non-overlapping
  std::uint64_t pendingBytes_ = 0;
  static constexpr std::size_t kMaxSpareBuffers = 16;
  std::vector<Bytes> spareBuffers_;                     // emptied (wiped) buffers of earlier waiting writes
  std::uint64_t maxPendingBytes_ = kDefaultMaxPendingBytes;
  bool finished_ = false;
};

}  // namespace pgbr::crypto
