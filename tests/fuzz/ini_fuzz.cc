// pgBackRest's strict ini (backup/ini_document.h): parse, and for what parses, render and parse again to the same
// document; every value is JSON and goes through JsonValue too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "backup/format_error.h"
#include "backup/ini_document.h"
#include "backup/json_value.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pgbr::backup::FormatError;
  using pgbr::backup::IniDocument;
  using pgbr::backup::JsonValue;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  IniDocument document;
  try {
    document = IniDocument::parse(text);
  } catch (const FormatError&) {
    return 0;
  }
  const std::string rendered = document.render();
  IniDocument again;
  try {
    again = IniDocument::parse(rendered);
  } catch (const FormatError& error) {
    pgbr::fuzz::fail(std::string("rendered document does not parse: ") + error.what());
  }
  pgbr::fuzz::check(again.sections() == document.sections(), "render/parse changed the document");
  for (const auto& section : document.sections()) {
    for (const auto& entry : section.entries) {
      // The parser accepted the line, so the value is valid JSON.
      pgbr::fuzz::check(JsonValue::isValid(entry.value), "ini value is not valid JSON");
      (void)JsonValue::parse(entry.value).render();
    }
  }
  return 0;
}
