// NodeTable: the node id <-> path map of the FUSE bridge, through renames, removals and forgets.
#include "fs/node_table.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "fs/fs_error.h"
#include "unit/test_support.h"

namespace pgbr::fs {
namespace {

// A real open file (the table holds it weakly, so any file will do).
struct OpenFile {
  test::TempDir backing;
  backup::PosixStorage storage{backing.path().string()};
  StagingArea area{storage};
  StagingContext context{storage, area, false};
  std::shared_ptr<StagedFile> file = StagedFile::openExisting(context, "f", crypto::CipherSpec::none(), false);
};

TEST(NodeTableTest, RootIsTheEmptyPath) {
  NodeTable nodes;
  EXPECT_EQ(nodes.path(NodeTable::kRootId), "");
  nodes.forget(NodeTable::kRootId, 100);
  EXPECT_EQ(nodes.path(NodeTable::kRootId), "");
}

TEST(NodeTableTest, OneIdPerPathCountedUntilForgotten) {
  NodeTable nodes;
  const std::uint64_t a = nodes.reference("a");
  EXPECT_EQ(nodes.reference("a"), a);
  EXPECT_NE(nodes.reference("b"), a);
  nodes.forget(a, 1);
  EXPECT_EQ(nodes.path(a), "a");
  nodes.forget(a, 1);
  try {
    nodes.path(a);
    FAIL() << "a forgotten node is still known";
  } catch (const FsError& e) {
    EXPECT_EQ(e.errorNumber(), ESTALE);
  }
  EXPECT_NE(nodes.reference("a"), a) << "ids are never reused";
}

TEST(NodeTableTest, RenameMovesTheSubtreeAndDetachesTheTarget) {
  NodeTable nodes;
  const std::uint64_t dir = nodes.reference("d");
  const std::uint64_t file = nodes.reference("d/f");
  const std::uint64_t deep = nodes.reference("d/e/g");
  const std::uint64_t sibling = nodes.reference("d-x");  // sorts between "d" and "d/..."
  const std::uint64_t target = nodes.reference("t");
  const std::uint64_t targetChild = nodes.reference("t/old");
  nodes.renamed("d", "t");
  EXPECT_EQ(nodes.path(dir), "t");
  EXPECT_EQ(nodes.path(file), "t/f");
  EXPECT_EQ(nodes.path(deep), "t/e/g");
  EXPECT_EQ(nodes.path(sibling), "d-x");
  EXPECT_EQ(nodes.path(target), std::nullopt);
  EXPECT_EQ(nodes.path(targetChild), std::nullopt);
  EXPECT_EQ(nodes.reference("t/f"), file);
  try {
    nodes.namedPath(target);
    FAIL();
  } catch (const FsError& e) {
    EXPECT_EQ(e.errorNumber(), ENOENT);
  }
}

TEST(NodeTableTest, RemovedNodeKeepsItsHandlesAndANewNodeTakesTheName) {
  NodeTable nodes;
  const std::uint64_t old = nodes.reference("f");
  OpenFile open;
  std::shared_ptr<StagedFile> file = open.file;
  nodes.opened(old, file);
  nodes.opened(old, file);
  nodes.removed("f");
  EXPECT_EQ(nodes.path(old), std::nullopt);
  EXPECT_EQ(nodes.openFile(old), file);
  const std::uint64_t fresh = nodes.reference("f");
  EXPECT_NE(fresh, old);
  EXPECT_EQ(nodes.openFile(fresh), nullptr);
  nodes.forget(old, 1);  // still open: kept
  nodes.closed(old);
  EXPECT_EQ(nodes.openFile(old), file);
  nodes.closed(old);
  EXPECT_THROW(nodes.path(old), FsError) << "forgotten and closed: gone";
}

TEST(NodeTableTest, TheTableDoesNotKeepAFileAlive) {
  NodeTable nodes;
  const std::uint64_t id = nodes.reference("f");
  OpenFile open;
  std::shared_ptr<StagedFile> file = open.file;
  nodes.opened(id, file);
  file.reset();  // released while another thread was about to use it
  open.file.reset();
  EXPECT_EQ(nodes.openFile(id), nullptr);
}

TEST(NodeTableTest, PageCacheIsKeptWhileSizeAndMtimeStay) {
  NodeTable nodes;
  const std::uint64_t id = nodes.reference("f");
  EXPECT_FALSE(nodes.sameContentAsLastOpen(id, 10, {1, 0}));
  EXPECT_TRUE(nodes.sameContentAsLastOpen(id, 10, {1, 0}));
  EXPECT_FALSE(nodes.sameContentAsLastOpen(id, 10, {1, 1}));
  EXPECT_FALSE(nodes.sameContentAsLastOpen(id, 11, {1, 1}));
}

}  // namespace
}  // namespace pgbr::fs
