#include "backup/backup_error.h"

namespace pgbr::backup {

namespace {
constexpr const char* kCorruptHint = "the file is corrupt or not of the type its name says; restore it from another copy";
}

FormatError truncatedStreamError(std::string_view filter) {
  return FormatError(std::string(filter) + ": unexpected end of stream (truncated file?)",
                     "the file is incomplete; restore it from another copy");
}

FormatError trailingDataError(std::string_view filter) {
  return FormatError(std::string(filter) + ": unexpected data after end of stream", kCorruptHint);
}

FormatError corruptStreamError(std::string_view filter, std::string_view what) {
  return FormatError(std::string(filter) + ": " + std::string(what), kCorruptHint);
}

}  // namespace pgbr::backup
