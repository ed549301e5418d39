#include "backup/json_object_reader.h"

#include <limits>

#include "backup/format_error.h"

namespace pgbr::backup {

JsonObjectReader::JsonObjectReader(JsonValue::Object object, std::string context)
    : object_(std::move(object)), context_(std::move(context)) {}

JsonObjectReader JsonObjectReader::fromValue(JsonValue value, std::string context) {
  if (!value.isObject())
    throw JsonFormatError("invalid value for " + context + ": expected object but found " +
                          JsonValue::typeName(value.type()));
  return JsonObjectReader(std::move(value.asObject()), std::move(context));
}

std::optional<JsonValue> JsonObjectReader::take(std::string_view key) {
  const auto member = object_.find(key);
  if (member == object_.end()) return std::nullopt;
  JsonValue value = std::move(member->second);
  object_.erase(member);
  return value;
}

JsonValue JsonObjectReader::require(std::string_view key) {
  std::optional<JsonValue> value = take(key);
  if (!value) throw FormatError("required key '" + std::string(key) + "' not found in " + context_);
  return std::move(*value);
}

void JsonObjectReader::throwInvalid(std::string_view key, const std::string& reason) const {
  throw JsonFormatError("invalid value for key '" + std::string(key) + "' in " + context_ + ": " + reason);
}

template <typename T, typename Convert>
std::optional<T> JsonObjectReader::optionalTyped(std::string_view key, Convert convert) {
  std::optional<JsonValue> value = take(key);
  if (!value) return std::nullopt;
  try {
    return convert(*value);
  } catch (const JsonFormatError& error) {
    throwInvalid(key, error.what());
  }
}

std::optional<std::string> JsonObjectReader::optionalString(std::string_view key) {
  return optionalTyped<std::string>(key, [](JsonValue& value) { return std::move(value.asString()); });
}

std::optional<std::uint64_t> JsonObjectReader::optionalUInt64(std::string_view key) {
  return optionalTyped<std::uint64_t>(key, [](const JsonValue& value) { return value.asUInt64(); });
}

std::optional<unsigned> JsonObjectReader::optionalUInt(std::string_view key) {
  return optionalTyped<unsigned>(key, [](const JsonValue& value) {
    const std::uint64_t number = value.asUInt64();
    if (number > std::numeric_limits<unsigned>::max())
      throw JsonFormatError("expected unsigned 32-bit integer but found " + value.render());
    return static_cast<unsigned>(number);
  });
}

std::optional<std::int64_t> JsonObjectReader::optionalInt64(std::string_view key) {
  return optionalTyped<std::int64_t>(key, [](const JsonValue& value) { return value.asInt64(); });
}

std::optional<bool> JsonObjectReader::optionalBool(std::string_view key) {
  return optionalTyped<bool>(key, [](const JsonValue& value) { return value.asBool(); });
}

std::optional<JsonValue::Object> JsonObjectReader::optionalObject(std::string_view key) {
  return optionalTyped<JsonValue::Object>(key, [](JsonValue& value) { return std::move(value.asObject()); });
}

std::optional<JsonValue::Array> JsonObjectReader::optionalArray(std::string_view key) {
  return optionalTyped<JsonValue::Array>(key, [](JsonValue& value) { return std::move(value.asArray()); });
}

namespace {

template <typename T>
T required(JsonObjectReader& reader, std::string_view key, std::optional<T> value) {
  if (!value) throw FormatError("required key '" + std::string(key) + "' not found in " + reader.context());
  return std::move(*value);
}

}  // namespace

std::string JsonObjectReader::requireString(std::string_view key) { return required(*this, key, optionalString(key)); }
std::uint64_t JsonObjectReader::requireUInt64(std::string_view key) { return required(*this, key, optionalUInt64(key)); }
unsigned JsonObjectReader::requireUInt(std::string_view key) { return required(*this, key, optionalUInt(key)); }
std::int64_t JsonObjectReader::requireInt64(std::string_view key) { return required(*this, key, optionalInt64(key)); }
bool JsonObjectReader::requireBool(std::string_view key) { return required(*this, key, optionalBool(key)); }

JsonValue::Object JsonObjectReader::takeRest() {
  JsonValue::Object rest = std::move(object_);
  object_.clear();
  return rest;
}

void mergeUnknown(JsonValue::Object& object, const JsonValue::Object& unknown) {
  for (const auto& [key, value] : unknown) object.emplace(key, value);
}

}  // namespace pgbr::backup
