// Typed reading of one JSON object of an info file or manifest — a section of fixed keys such as [backup:db], or
// a value such as a [target:file] entry (FORMAT.md §4.2, §4.3, §5.1). Each member is taken out as it is read, so
// what remains at the end are the members this code does not know; the models keep them and write them back,
// which is how unknown keys survive a load/save round trip. Errors name the object ("section 'db'").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "backup/json_value.h"

namespace pgbr::backup {

// Owns the object it reads; used by one thread at a time.
class JsonObjectReader {
 public:
  // `context` names the object in error messages, e.g. "section 'target:file', key 'pg_data/PG_VERSION'".
  JsonObjectReader(JsonValue::Object object, std::string context);
  // Reads an object value; throws JsonFormatError naming `context` if `value` is not an object.
  static JsonObjectReader fromValue(JsonValue value, std::string context);

  // Removes and returns a member, or nullopt if absent.
  std::optional<JsonValue> take(std::string_view key);
  // Removes and returns a member; throws FormatError "required key 'KEY' not found in CONTEXT" if absent.
  JsonValue require(std::string_view key);

  // Typed variants: `require*` throw when absent, `optional*` return nullopt; both throw JsonFormatError
  // "invalid value for key 'KEY' in CONTEXT: expected ... but found ..." on a wrong type or range.
  std::string requireString(std::string_view key);
  std::optional<std::string> optionalString(std::string_view key);
  std::uint64_t requireUInt64(std::string_view key);
  std::optional<std::uint64_t> optionalUInt64(std::string_view key);
  // Unsigned values that pgBackRest keeps in 32 bits (ids, versions).
  unsigned requireUInt(std::string_view key);
  std::optional<unsigned> optionalUInt(std::string_view key);
  std::int64_t requireInt64(std::string_view key);
  std::optional<std::int64_t> optionalInt64(std::string_view key);
  bool requireBool(std::string_view key);
  std::optional<bool> optionalBool(std::string_view key);
  std::optional<JsonValue::Object> optionalObject(std::string_view key);
  std::optional<JsonValue::Array> optionalArray(std::string_view key);

  // The members not taken so far (the unknown ones), leaving the reader empty.
  JsonValue::Object takeRest();
  const std::string& context() const noexcept { return context_; }

  // Throws JsonFormatError "invalid value for key 'KEY' in CONTEXT: <reason>".
  [[noreturn]] void throwInvalid(std::string_view key, const std::string& reason) const;

 private:
  template <typename T, typename Convert>
  std::optional<T> optionalTyped(std::string_view key, Convert convert);

  JsonValue::Object object_;
  std::string context_;
};

// Writing helpers for the models: set `key` when `value` holds something, and add back unknown members (a known
// member of the same name wins).
template <typename T>
void putIfSet(JsonValue::Object& object, std::string_view key, const std::optional<T>& value) {
  if (value) object.insert_or_assign(std::string(key), JsonValue(*value));
}
void mergeUnknown(JsonValue::Object& object, const JsonValue::Object& unknown);

}  // namespace pgbr::backup
