// The kernel names files by node id (FUSE's low-level API), PgbrFs by path. This table maps one to the other and
// follows renames and removals, so that a file that lost its name (unlinked, or replaced by a rename) while open
// is still known by its id, and operations on it go to its open handles instead of to whatever has the name now.
// No FUSE types here. Thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fs/pgbrfs.h"

namespace pgbr::fs {

class NodeTable {
 public:
  static constexpr std::uint64_t kRootId = 1;  // FUSE_ROOT_ID, the path ""

  NodeTable();

  // The id of the node at `path`, made if new, with one more kernel reference (each entry reply counts one).
  std::uint64_t reference(const std::string& path);
  // The kernel dropped `count` references; a node without references is forgotten.
  void forget(std::uint64_t id, std::uint64_t count);

  // The node's path; nullopt when it has lost its name. Throws FsError(ESTALE) for an id not in the table.
  std::optional<std::string> path(std::uint64_t id) const;
  // The node's path; throws FsError(ENOENT) when it has lost its name.
  std::string namedPath(std::uint64_t id) const;

  // The name at `path` was removed: the node that had it (and, for a directory, every node below) loses it.
  void removed(const std::string& path);
  // `from` was renamed to `to`: the node at `to` loses its name; `from` and everything below follow.
  void renamed(const std::string& from, const std::string& to);

  // Open files of a node, so that operations on a nameless node without a handle (fstat, fchmod: the kernel
  // sends no handle for those) can reach its content. Shared ownership: a handle may be released meanwhile.
  void opened(std::uint64_t id, const std::shared_ptr<StagedFile>& file);
  void closed(std::uint64_t id);
  std::shared_ptr<StagedFile> openFile(std::uint64_t id) const;

  // The size and mtime the page cache of a node was filled from, to keep it across opens while they stay the
  // same (libfuse's auto_cache): returns true when `size`/`mtime` match the last ones recorded, then records them.
  bool sameContentAsLastOpen(std::uint64_t id, std::uint64_t size, const struct timespec& mtime);

  std::size_t size() const;

 private:
  struct Node {
    std::optional<std::string> path;
    std::uint64_t references = 0;
    std::uint64_t openCount = 0;
    std::weak_ptr<StagedFile> file;
    std::optional<std::pair<std::uint64_t, std::int64_t>> cachedContent;  // size, mtime in ns
  };

  void detachTree(const std::string& path);  // caller holds mutex_

  mutable std::mutex mutex_;
  std::uint64_t nextId_ = kRootId + 1;
  std::unordered_map<std::uint64_t, Node> nodes_;
  std::map<std::string, std::uint64_t> byPath_;  // named nodes only; ordered so that a subtree is a range
};

}  // namespace pgbr::fs
