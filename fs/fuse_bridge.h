// The FUSE boundary: libfuse's high-level operations, each a noexcept function that calls PgbrFs and turns any
// exception into the errno the kernel gets, logging data problems once per path (never contents or keys).
#pragma once

// FUSE_USE_VERSION is set for the fs/ targets only, in fs/CMakeLists.txt.
#include <fuse.h>

#include "fs/pgbrfs.h"

namespace pgbr::fs {

// The operation table; private_data passed to fuse_new must be the PgbrFs*.
const fuse_operations& fuseOperations();

}  // namespace pgbr::fs
