// The FUSE boundary: libfuse's low-level (node id based) operations. Each is a noexcept function that resolves node
// ids to paths (NodeTable), calls PgbrFs, and replies; any exception becomes the errno the kernel gets, and data
// problems are logged once per path (never contents or keys). The low-level API is used so that a file that lost
// its name while open (unlinked, or replaced by a rename) still answers fstat, fsync, fchmod, ftruncate, ....
#pragma once

// FUSE_USE_VERSION is set for the fs/ targets only, in fs/CMakeLists.txt.
#include <fuse_lowlevel.h>

#include <shared_mutex>
#include <string>

#include "fs/node_table.h"
#include "fs/pgbrfs.h"

namespace pgbr::fs {

// What the operations work on; passed as the session's userdata.
struct FuseBridge {
  PgbrFs& fs;
  NodeTable nodes;
  std::string mountpoint;  // for the readahead setting made after the kernel's INIT
  // Held exclusively by operations that move or remove names (rename, unlink, rmdir), shared by those that turn
  // a node into a path and act on that path: an open racing with a rename over its file must not open the new
  // file for the old node. Reads and writes on open handles do not take it.
  std::shared_mutex names;
};

// The operation table; fuse_session_new's userdata must be the FuseBridge*.
const fuse_lowlevel_ops& fuseOperations();

}  // namespace pgbr::fs
