// The in-place editor of cipher files, checked against a plain byte vector under the same operations:
// sequential appends, out-of-order writes, overwrites, truncation, reads, finish/reopen. After every finish the
// file must be a valid cipher file whose full decryption equals the model.
#include "crypto/cipher_file_editor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "crypto/cipher_block_decryptor.h"
#include "crypto/cipher_block_encryptor.h"
#include "crypto/crypto_error.h"
#include "unit/test_support.h"

namespace pgbr::crypto {
namespace {

const Secret kPass("editor-pass");

class MemoryIo : public CipherFileIo {
 public:
  Bytes bytes;
  std::uint64_t maxSize = 0;  // largest size ever reached, to check bounded growth
  bool allowHoles = false;    // encryptAppend's caller writes its blocks later: appends after them leave a hole
  void readAt(std::uint64_t offset, MutableByteView out) override {
    if (offset + out.size() > bytes.size()) throw std::runtime_error("short read");
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
  }
  void writeAt(std::uint64_t offset, ByteView data) override {
    if (offset > bytes.size() && !allowHoles) throw std::runtime_error("write leaves a hole in the cipher file");
    if (offset + data.size() > bytes.size()) bytes.resize(offset + data.size());
    std::copy(data.begin(), data.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
    maxSize = std::max<std::uint64_t>(maxSize, bytes.size());
  }
  void truncate(std::uint64_t size) override { bytes.resize(size); }
  std::uint64_t size() override { return bytes.size(); }
};

void writeModel(Bytes& model, std::uint64_t offset, ByteView data) {
  if (offset + data.size() > model.size()) model.resize(offset + data.size(), 0);
  std::copy(data.begin(), data.end(), model.begin() + static_cast<std::ptrdiff_t>(offset));
}

Bytes readAll(CipherFileEditor& editor) {
  Bytes out(editor.size());
  EXPECT_EQ(editor.read(0, out), out.size());
  return out;
}

TEST(CipherFileEditor, SequentialAppendMatchesStreamingEncryption) {
  MemoryIo io;
  auto editor = CipherFileEditor::create(kPass, io);
  const Bytes plain = test::patternBytes(100003, 1);
  for (std::size_t off = 0; off < plain.size(); off += 4093)
    editor->write(off, ByteView(plain).subspan(off, std::min<std::size_t>(4093, plain.size() - off)));
  editor->finish();
  EXPECT_EQ(io.bytes.size(), offsets::cipherSizeForPlain(plain.size()));
  EXPECT_EQ(decryptBuffer(kPass, io.bytes), plain);
}

TEST(CipherFileEditor, EmptyFileFinishesAsPgBackRestWritesIt) {
  MemoryIo io;
  auto editor = CipherFileEditor::create(kPass, io);
  editor->finish();
  EXPECT_EQ(io.bytes.size(), 32u);
  EXPECT_TRUE(decryptBuffer(kPass, io.bytes).empty());
}

TEST(CipherFileEditor, OutOfOrderWritesWaitThenLandInOrder) {
  MemoryIo io;
  auto editor = CipherFileEditor::create(kPass, io);
  const Bytes plain = test::patternBytes(64 * 1024, 2);
  // Chunks of 4 KiB in the order a multi-threaded writeback flush might deliver them.
  std::vector<std::size_t> order(16);
  for (std::size_t i = 0; i < order.size(); i++) order[i] = i;
  std::mt19937 rng(3);
  std::shuffle(order.begin(), order.end(), rng);
  for (std::size_t chunk : order) editor->write(chunk * 4096, ByteView(plain).subspan(chunk * 4096, 4096));
  EXPECT_EQ(editor->pendingBytes(), 0u);
  EXPECT_EQ(readAll(*editor), plain);
  editor->finish();
  EXPECT_EQ(decryptBuffer(kPass, io.bytes), plain);
}

// The daemon's fast path: blocks encrypted in order under its lock and written by the caller afterwards, in any
// order, while writes that arrived ahead are appended behind them.
TEST(CipherFileEditor, EncryptAppendLeavesTheWriteToTheCaller) {
  MemoryIo io;
  io.allowHoles = true;
  auto editor = CipherFileEditor::create(kPass, io);
  const Bytes plain = test::patternBytes(40 * 4096 + 5, 8);
  struct Deferred {
    std::uint64_t offset;
    Bytes bytes;
  };
  std::vector<Deferred> deferred;
  std::vector<std::uint8_t> scratch;
  auto piece = [&](std::size_t index) {
    const std::size_t begin = index * 4096;
    return ByteView(plain).subspan(begin, std::min<std::size_t>(4096, plain.size() - begin));
  };
  for (std::size_t i = 0; i <= 40; i++) {
    if (i % 5 == 3) {
      editor->write(4096 * (i + 1), piece(i + 1));  // arrives ahead of piece i and waits in memory
      EXPECT_EQ(editor->pendingBytes(), piece(i + 1).size());
    }
    if (i % 5 == 4) continue;  // already written ahead
    const std::optional<std::uint64_t> at = editor->encryptAppend(4096 * i, piece(i), scratch);
    if (i == 40) {
      EXPECT_FALSE(at) << "5 bytes are less than a block";
      editor->write(4096 * i, piece(i));
      break;
    }
    ASSERT_TRUE(at) << "piece " << i;
    EXPECT_EQ(*at, offsets::cipherOffsetOfBlock(i * 4096 / offsets::kBlockSize));
    EXPECT_EQ(editor->pendingBytes(), 0u) << "the waiting piece continues the data: drained";
    deferred.push_back({*at, Bytes(scratch.begin(), scratch.begin() + 4096)});
  }
  // Not the end of the data, or a partial block held: the ordinary path.
  EXPECT_FALSE(editor->encryptAppend(4096, piece(1), scratch));
  EXPECT_FALSE(editor->encryptAppend(editor->size(), piece(0), scratch));
  std::reverse(deferred.begin(), deferred.end());  // they land in any order
  for (const Deferred& d : deferred) io.writeAt(d.offset, d.bytes);
  EXPECT_EQ(readAll(*editor), plain);
  editor->finish();
  EXPECT_EQ(decryptBuffer(kPass, io.bytes), plain);
  EXPECT_FALSE(editor->encryptAppend(editor->size(), piece(0), scratch)) << "finished: the next write unfinishes it";
}

TEST(CipherFileEditor, PendingOverflowFillsHolesWithZeros) {
  MemoryIo io;
  auto editor = CipherFileEditor::create(kPass, io);
  editor->setMaxPendingBytes(1000);
  Bytes model;
  const Bytes a = test::patternBytes(800, 4), b = test::patternBytes(800, 5);
  editor->write(5000, a);
  writeModel(model, 5000, a);
  editor->write(9000, b);  // exceeds the bound: holes become zeros on disk
  writeModel(model, 9000, b);
  EXPECT_EQ(editor->pendingBytes(), 0u);
  const Bytes c = test::patternBytes(5000, 6);
  editor->write(0, c);  // fills the hole afterwards: an in-place rewrite
  writeModel(model, 0, c);
  EXPECT_EQ(readAll(*editor), model);
  editor->finish();
  EXPECT_EQ(decryptBuffer(kPass, io.bytes), model);
}

TEST(CipherFileEditor, ReopenAndContinue) {
  MemoryIo io;
  io.bytes = encryptBuffer(kPass, test::patternBytes(1000, 7));
  Bytes model = test::patternBytes(1000, 7);
  auto editor = CipherFileEditor::open(kPass, io);
  EXPECT_EQ(editor->size(), 1000u);
  EXPECT_TRUE(editor->finished());
  EXPECT_EQ(readAll(*editor), model);
  const Bytes more = test::patternBytes(77, 8);
  editor->write(1000, more);
  writeModel(model, 1000, more);
  editor->write(10, more);
  writeModel(model, 10, more);
  editor->finish();
  EXPECT_EQ(decryptBuffer(kPass, io.bytes), model);
}

TEST(CipherFileEditor, OpenRejectsBrokenFiles) {
  MemoryIo io;
  const ByteView text = asBytes("plain text, not encrypted at all");
  io.bytes.assign(text.begin(), text.end());
  EXPECT_THROW(CipherFileEditor::open(kPass, io), CryptoError);
  io.bytes = encryptBuffer(kPass, test::patternBytes(100, 1));
  EXPECT_THROW(CipherFileEditor::open(Secret("wrong"), io), CryptoError);
  io.bytes.resize(io.bytes.size() - 1);
  EXPECT_THROW(CipherFileEditor::open(kPass, io), CryptoError);
}

TEST(CipherFileEditor, TruncateEverywhere) {
  for (std::uint64_t target : {0, 1, 15, 16, 17, 500, 1023, 1024, 1025, 3000}) {
    MemoryIo io;
    auto editor = CipherFileEditor::create(kPass, io);
    Bytes model = test::patternBytes(1024, 9);
    editor->write(0, model);
    editor->finish();
    editor->truncate(target);
    model.resize(target, 0);
    EXPECT_EQ(editor->size(), target);
    EXPECT_EQ(readAll(*editor), model) << target;
    editor->finish();
    EXPECT_EQ(decryptBuffer(kPass, io.bytes), model) << target;
  }
}

// The model test: thousands of random operations, compared with a plain vector after each, and the cipher file
// fully decrypted and compared at every finish.
TEST(CipherFileEditor, TenThousandRandomOperationsMatchThePlainModel) {
  std::mt19937_64 rng(20261128);
  int operations = 0;
  for (int round = 0; round < 20; round++) {
    MemoryIo io;
    auto editor = CipherFileEditor::create(kPass, io);
    editor->setMaxPendingBytes(rng() % 2 ? 4096 : 1 << 20);
    Bytes model;
    for (int i = 0; i < 550; i++, operations++) {
      const std::uint64_t size = model.size();
      const unsigned op = static_cast<unsigned>(rng() % 100);
      if (op < 45) {  // write: mostly near the end, sometimes inside, sometimes ahead
        const std::uint64_t offset = rng() % 3 == 0 ? rng() % (size + 1) : size + rng() % 300;
        const Bytes data = test::patternBytes(1 + rng() % 5000, static_cast<std::uint32_t>(rng()));
        editor->write(offset, data);
        writeModel(model, offset, data);
      } else if (op < 55) {  // truncate
        const std::uint64_t target = rng() % (size + 2000);
        editor->truncate(target);
        model.resize(target, 0);
      } else if (op < 85) {  // read a random range
        const std::uint64_t offset = rng() % (size + 100);
        Bytes out(1 + rng() % 9000);
        const std::size_t got = editor->read(offset, out);
        const std::size_t expected = offset >= size ? 0 : std::min<std::size_t>(out.size(), size - offset);
        ASSERT_EQ(got, expected) << "op " << operations;
        ASSERT_TRUE(std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(got),
                               model.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(offset, size))))
            << "op " << operations;
      } else if (op < 95) {  // finish: the file on disk must now be complete and exact
        editor->finish();
        ASSERT_EQ(io.bytes.size(), offsets::cipherSizeForPlain(model.size()));
        ASSERT_EQ(decryptBuffer(kPass, io.bytes), model) << "op " << operations;
      } else {  // reopen from disk, as a new open() of the published file would
        editor->finish();
        editor = CipherFileEditor::open(kPass, io);
      }
      ASSERT_EQ(editor->size(), model.size()) << "op " << operations;
    }
    editor->finish();
    ASSERT_EQ(decryptBuffer(kPass, io.bytes), model);
  }
  EXPECT_GE(operations, 10000);
}

}  // namespace
}  // namespace pgbr::crypto
