// Facts about mounts from /proc/self/mountinfo, read without touching the mounted file system (the daemon must
// never stat its own mountpoint: with a single-threaded loop that would wait on itself).
#pragma once

#include <optional>
#include <string>

namespace pgbr::fs {

// The "major:minor" of the file system mounted at `mountpoint`, or nullopt when nothing is mounted there.
std::optional<std::string> mountedDevice(const std::string& mountpoint);

// Sets the readahead of the file system mounted at `mountpoint` (/sys/class/bdi/<major:minor>/read_ahead_kb).
// Best effort: needs root; failures are logged at detail level.
void raiseReadahead(const std::string& mountpoint, unsigned kilobytes);

}  // namespace pgbr::fs
