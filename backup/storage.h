// The repository as a tree of files, addressed by paths relative to its root ("archive/demo/archive.info").
// Tools write through it, the key resolver reads governing files through it, and tests point it at plain
// directories. A missing file is an expected result (std::nullopt), never an exception.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/bytes.h"

namespace pgbr::backup {

struct StorageInfo {
  enum class Type { File, Path, Link, Special };
  Type type = Type::File;
  std::uint64_t size = 0;
  std::int64_t mtimeNs = 0;      // modification time, nanoseconds since the epoch
  std::uint64_t inode = 0;
  mode_t mode = 0;               // permission bits only
  uid_t uid = 0;
  gid_t gid = 0;
  std::string linkDestination;   // for links
};

struct StorageWriteOptions {
  mode_t mode = 0640;            // pgBackRest's file mode
  bool createParents = true;     // make missing parent directories (mode 0750)
  bool sync = true;              // fsync the file before the rename and the directory after it
};

class Storage {
 public:
  virtual ~Storage() = default;

  // The whole file, or nullopt when it does not exist. Throws StorageError on any other failure.
  virtual std::optional<Bytes> get(const std::string& path) = 0;
  // lstat-like: links are not followed. nullopt when nothing exists at `path`.
  virtual std::optional<StorageInfo> info(const std::string& path) = 0;
  // Names in a directory (no "." or ".."), sorted; nullopt when the directory does not exist.
  virtual std::optional<std::vector<std::string>> list(const std::string& path) = 0;
  // Replaces `path` atomically: writes "<path>.pgbackrest.tmp", syncs, renames, syncs the directory.
  virtual void put(const std::string& path, ByteView data, const StorageWriteOptions& options = {}) = 0;
  // Removes a file or link; returns false when it did not exist.
  virtual bool remove(const std::string& path) = 0;
};

// pgBackRest's suffix for files being written before their atomic rename (FORMAT.md §1).
inline constexpr const char* kTempSuffix = ".pgbackrest.tmp";

// The directory part and the last component of a repository path: "a/b/c" -> "a/b" and "c"; "c" -> "" and "c".
std::string repoPathParent(const std::string& path);
std::string repoPathName(const std::string& path);

// Throws std::invalid_argument unless `path` is relative, free of "." and ".." components and empty components.
void validateRepoPath(const std::string& path);

}  // namespace pgbr::backup
