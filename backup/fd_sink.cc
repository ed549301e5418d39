#include "backup/fd_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backup/pgbackrest_error.h"

namespace pgbr::backup {

void FdSink::write(ByteView data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd_, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw CommandError(ErrorCode::FileWrite,
                         "unable to write '" + name_ + "': [" + std::to_string(errno) + "] " + std::strerror(errno),
                         hint_);
    }
    data = data.subspan(static_cast<std::size_t>(written));
  }
}

}  // namespace pgbr::backup
