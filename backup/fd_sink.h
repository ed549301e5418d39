// A pipeline Sink that writes to an open file descriptor (archive-get's destination, backup files on the
// repository): whole writes, EINTR retried, failures as CommandError(FileWrite) naming the file.
#pragma once

#include <string>

#include "backup/pipeline.h"

namespace pgbr::backup {

// Not thread-safe. Does not own `fd`; the caller closes it (and checks close(), which reports delayed errors of
// network and FUSE file systems).
class FdSink final : public Sink {
 public:
  // `name` names the file in messages; `hint` (may be empty) is the HINT of the error.
  FdSink(int fd, std::string name, std::string hint = "") : fd_(fd), name_(std::move(name)), hint_(std::move(hint)) {}
  // Throws CommandError(FileWrite) "unable to write 'NAME': [errno] reason".
  void write(ByteView data) override;

 private:
  int fd_;
  std::string name_;
  std::string hint_;
};

}  // namespace pgbr::backup
