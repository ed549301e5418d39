// The JSON subset of info files and manifests (backup/json_value.h): isValid() agrees with parse(), and what
// parses renders back to the same bytes (the grammar accepts only pgBackRest's compact form, except the `\/` and
// `\u00XX` escapes, which render decoded: the rendering must then parse to an equal value).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "backup/format_error.h"
#include "backup/json_value.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pgbr::backup::FormatError;
  using pgbr::backup::JsonValue;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = JsonValue::isValid(text);
  JsonValue value;
  try {
    value = JsonValue::parse(text);
  } catch (const FormatError&) {
    pgbr::fuzz::check(!valid, "isValid() true but parse() throws");
    return 0;
  }
  pgbr::fuzz::check(valid, "parse() succeeds but isValid() false");
  const std::string rendered = value.render();
  JsonValue again;
  try {
    again = JsonValue::parse(rendered);
  } catch (const FormatError& error) {
    pgbr::fuzz::fail(std::string("rendered value does not parse: ") + error.what());
  }
  pgbr::fuzz::check(again == value, "render/parse changed the value");
  pgbr::fuzz::check(again.render() == rendered, "rendering is not stable");
  return 0;
}
