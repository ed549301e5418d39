#include "fs/node_table.h"

#include <algorithm>
#include <cerrno>

#include "fs/fs_error.h"

namespace pgbr::fs {

namespace {

// Paths below `dir` (never the root) are the keys starting with "dir/": a contiguous range of an ordered map,
// though not right after `dir` itself ("dir-x" sorts between "dir" and "dir/a").

}  // namespace

NodeTable::NodeTable() {
  nodes_[kRootId].path = "";
  nodes_[kRootId].references = 1;  // the kernel never forgets the root
  byPath_[""] = kRootId;
}

std::uint64_t NodeTable::reference(const std::string& path) {
  std::lock_guard lock(mutex_);
  const auto [it, inserted] = byPath_.try_emplace(path, nextId_);
  if (inserted) {
    nodes_[nextId_].path = path;
    nextId_++;
  }
  nodes_[it->second].references++;
  return it->second;
}

void NodeTable::forget(std::uint64_t id, std::uint64_t count) {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(id);
  if (it == nodes_.end() || id == kRootId) return;
  Node& node = it->second;
  node.references -= std::min(node.references, count);
  if (node.references > 0 || node.openCount > 0) return;
  if (node.path) {
    const auto named = byPath_.find(*node.path);
    if (named != byPath_.end() && named->second == id) byPath_.erase(named);
  }
  nodes_.erase(it);
}

std::optional<std::string> NodeTable::path(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(id);
  if (it == nodes_.end()) throw FsError(ESTALE, "unknown node " + std::to_string(id));
  return it->second.path;
}

std::string NodeTable::namedPath(std::uint64_t id) const {
  std::optional<std::string> found = path(id);
  if (!found) throw FsError(ENOENT, "the file was removed");
  return *found;
}

void NodeTable::detachTree(const std::string& path) {
  if (const auto it = byPath_.find(path); it != byPath_.end()) {
    nodes_[it->second].path.reset();
    byPath_.erase(it);
  }
  const std::string prefix = path + "/";
  for (auto it = byPath_.lower_bound(prefix); it != byPath_.end() && it->first.starts_with(prefix);) {
    nodes_[it->second].path.reset();
    it = byPath_.erase(it);
  }
}

void NodeTable::removed(const std::string& path) {
  std::lock_guard lock(mutex_);
  detachTree(path);
}

void NodeTable::renamed(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  if (from == to) return;
  // What moves: `from` and the nodes below it.
  std::vector<std::pair<std::string, std::uint64_t>> moving;
  if (const auto it = byPath_.find(from); it != byPath_.end()) {
    moving.emplace_back(to, it->second);
    byPath_.erase(it);
  }
  const std::string prefix = from + "/";
  for (auto it = byPath_.lower_bound(prefix); it != byPath_.end() && it->first.starts_with(prefix);) {
    moving.emplace_back(to + it->first.substr(from.size()), it->second);
    it = byPath_.erase(it);
  }
  detachTree(to);  // the replaced target (an empty directory has nothing below it)
  for (auto& [path, id] : moving) {
    nodes_[id].path = path;
    byPath_[path] = id;
  }
}

void NodeTable::opened(std::uint64_t id, const std::shared_ptr<StagedFile>& file) {
  std::lock_guard lock(mutex_);
  Node& node = nodes_[id];
  node.openCount++;
  node.file = file;
}

void NodeTable::closed(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(id);
  if (it == nodes_.end()) return;
  Node& node = it->second;
  if (node.openCount > 0) node.openCount--;
  if (node.openCount == 0 && node.references == 0 && id != kRootId) {
    if (node.path) byPath_.erase(*node.path);
    nodes_.erase(it);
  }
}

std::shared_ptr<StagedFile> NodeTable::openFile(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(id);
  return it == nodes_.end() || it->second.openCount == 0 ? nullptr : it->second.file.lock();
}

bool NodeTable::sameContentAsLastOpen(std::uint64_t id, std::uint64_t size, const struct timespec& mtime) {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(id);
  if (it == nodes_.end()) return false;
  const std::pair<std::uint64_t, std::int64_t> now{size, mtime.tv_sec * 1'000'000'000LL + mtime.tv_nsec};
  const bool same = it->second.cachedContent == now;
  it->second.cachedContent = now;
  return same;
}

std::size_t NodeTable::size() const {
  std::lock_guard lock(mutex_);
  return nodes_.size();
}

}  // namespace pgbr::fs
