// The typed loaders of info files and manifests, compiled once per model (PGBR_FUZZ_MODEL = Manifest, BackupInfo
// or ArchiveInfo, see CMakeLists.txt). Two ways in: the input as a whole file through the loader (format and
// checksum checks, main-then-.copy fallback), and the input re-sealed with a correct checksum so that the fuzzer
// reaches the section readers behind the checksum gate. What loads must render to a document that loads again
// and renders to the same bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "backup/archive_info.h"
#include "backup/backup_info.h"
#include "backup/format_error.h"
#include "backup/info_checksum.h"
#include "backup/info_file_loader.h"
#include "backup/ini_document.h"
#include "backup/manifest.h"
#include "crypto/crypto_error.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using pgbr::backup::FormatError;
using Model = pgbr::backup::PGBR_FUZZ_MODEL;

// A template, so that only the branch for Model is instantiated.
template <typename M>
M load(const std::string& path, const pgbr::backup::InfoFileReader& read) {
  if constexpr (std::is_same_v<M, pgbr::backup::Manifest>) {
    return pgbr::backup::loadManifest(path, read);
  } else if constexpr (std::is_same_v<M, pgbr::backup::BackupInfo>) {
    return pgbr::backup::loadBackupInfo(path, read);
  } else {
    return pgbr::backup::loadArchiveInfo(path, read);
  }
}

void checkRoundTrip(const Model& model) {
  const std::string rendered = model.render();
  try {
    const Model again = Model::parse(rendered, "rendered");
    pgbr::fuzz::check(again.render() == rendered, "render/parse/render is not stable");
  } catch (const FormatError& error) {
    pgbr::fuzz::fail(std::string("a loaded model renders to a file that does not load: ") + error.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  // As a file: main holds the input, the .copy is missing.
  try {
    const Model model = load<Model>("fuzz/file", [&](const std::string& path) -> std::optional<std::string> {
      if (path == "fuzz/file") return text;
      return std::nullopt;
    });
    checkRoundTrip(model);
  } catch (const FormatError&) {
  } catch (const pgbr::crypto::CryptoError&) {
  }

  // Behind the checksum: the same document with a correct checksum.
  pgbr::backup::IniDocument document;
  try {
    document = pgbr::backup::IniDocument::parse(text);
    pgbr::backup::sealInfoDocument(document);
  } catch (const FormatError&) {
    return 0;
  }
  try {
    checkRoundTrip(Model::fromDocument(document, "fuzz/sealed"));
  } catch (const FormatError&) {
  }
  return 0;
}
