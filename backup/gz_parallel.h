// gzip of a whole buffer on several threads (the technique of pigz), for archive-push's 16 MiB segments: the input
// is cut into parts, each deflated on its own thread with the 32 KiB before it as dictionary and ended byte-aligned
// by a sync flush (the last with the final block), and the parts' CRC-32s are combined. The result is one gzip
// member with the header newGzCompress() writes: any gzip reader, pgBackRest's included, reads it as one stream.
#pragma once

#include "crypto/bytes.h"

namespace pgbr::backup {

// `level` is pgBackRest's gz level (0..9, mapped as gzIsalLevel does); `threads` 1 is a plain single-thread gzip.
// Throws std::invalid_argument for a level out of range.
Bytes gzipParallel(ByteView data, int level, unsigned threads);

}  // namespace pgbr::backup
