#include "fs/mount_table.h"

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fs/log.h"

namespace pgbr::fs {

namespace {

// mountinfo escapes space, tab, newline and backslash as octal (\040).
std::string unescape(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); i++) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      out += static_cast<char>(std::strtol(field.substr(i + 1, 3).c_str(), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> mountedDevice(const std::string& mountpoint) {
  char resolved[PATH_MAX];
  if (::realpath(mountpoint.c_str(), resolved) == nullptr) return std::nullopt;
  std::ifstream mounts("/proc/self/mountinfo");
  std::optional<std::string> device;
  // Fields: mount id, parent id, major:minor, root, mount point, ... The last match is the one on top.
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string id, parent, majorMinor, root, point;
    if (!(fields >> id >> parent >> majorMinor >> root >> point)) continue;
    if (unescape(point) == resolved) device = majorMinor;
  }
  return device;
}

void raiseReadahead(const std::string& mountpoint, unsigned kilobytes) {
  const std::optional<std::string> device = mountedDevice(mountpoint);
  if (!device) return;
  const std::string file = "/sys/class/bdi/" + *device + "/read_ahead_kb";
  std::ofstream out(file);
  out << kilobytes << "\n";
  out.flush();
  if (!out) log(LogLevel::Detail, "unable to set the readahead in " + file + " (needs root)");
}

}  // namespace pgbr::fs
