// The JSON subset pgBackRest uses for the values of info files and manifests (FORMAT.md §4): null, booleans,
// integers (int64 and uint64 — db-system-id needs the full uint64 range), strings, arrays and objects whose keys
// ascend in byte order. Parsing accepts exactly the compact form pgBackRest writes (no whitespace, no fractions,
// no leading zeros, keys sorted and unique), plus the two string escapes its reader also decodes (`\/`, `\u00XX`);
// rendering reproduces pgBackRest's bytes, so render(parse(x)) == x for everything pgBackRest writes.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pgbr::backup {

// A value type: copies are independent, and const access from several threads is safe.
class JsonValue {
 public:
  using Array = std::vector<JsonValue>;
  // std::string orders as unsigned bytes, which is pgBackRest's (C locale strcmp) key order.
  using Object = std::map<std::string, JsonValue, std::less<>>;

  enum class Type { Null, Bool, Integer, String, Array, Object };

  JsonValue() = default;
  JsonValue(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): null is a value like any other
  template <typename B>
    requires std::same_as<B, bool>
  JsonValue(B value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  JsonValue(T value) : value_(integerStorage(value)) {}  // NOLINT(google-explicit-constructor)
  JsonValue(std::string value) : value_(std::move(value)) {}       // NOLINT(google-explicit-constructor)
  JsonValue(std::string_view value) : value_(std::string(value)) {}  // NOLINT(google-explicit-constructor)
  JsonValue(const char* value) : value_(std::string(value)) {}       // NOLINT(google-explicit-constructor)
  JsonValue(Array value) : value_(std::move(value)) {}               // NOLINT(google-explicit-constructor)
  JsonValue(Object value) : value_(std::move(value)) {}              // NOLINT(google-explicit-constructor)

  // Parses one complete value. Throws JsonFormatError naming the byte offset and the reason.
  static JsonValue parse(std::string_view text);
  // True when parse() would succeed.
  static bool isValid(std::string_view text);

  // Compact text in pgBackRest's form: no whitespace, keys in byte order, strings escaping only
  // `"` `\` `\n` `\r` `\t` `\b` `\f`.
  std::string render() const;
  void renderTo(std::string& out) const;
  // Appends `text` as a JSON string (quotes and escapes): how ini keys enter the backrest-checksum (FORMAT.md §4.1).
  static void renderString(std::string& out, std::string_view text);

  Type type() const noexcept;
  bool isNull() const noexcept { return type() == Type::Null; }
  bool isBool() const noexcept { return type() == Type::Bool; }
  bool isInteger() const noexcept { return type() == Type::Integer; }
  bool isString() const noexcept { return type() == Type::String; }
  bool isArray() const noexcept { return type() == Type::Array; }
  bool isObject() const noexcept { return type() == Type::Object; }
  // True for integers that fit the named type.
  bool isUInt64() const noexcept { return std::holds_alternative<std::uint64_t>(value_); }
  bool isInt64() const noexcept;

  // Typed access; each throws JsonFormatError ("expected unsigned integer but found string") on a mismatch.
  bool asBool() const;
  std::uint64_t asUInt64() const;
  std::int64_t asInt64() const;
  const std::string& asString() const;
  std::string& asString();
  const Array& asArray() const;
  Array& asArray();
  const Object& asObject() const;
  Object& asObject();

  static const char* typeName(Type type) noexcept;

  bool operator==(const JsonValue& other) const = default;

 private:
  // Non-negative integers are always held as uint64 and negative ones as int64, so equality is exact.
  using Storage = std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, std::string, Array, Object>;
  [[noreturn]] void throwTypeMismatch(const char* expected) const;
  template <typename T>
  static Storage integerStorage(T value) {
    if constexpr (std::signed_integral<T>) {
      if (value < 0) return Storage(std::in_place_type<std::int64_t>, static_cast<std::int64_t>(value));
    }
    return Storage(std::in_place_type<std::uint64_t>, static_cast<std::uint64_t>(value));
  }

  Storage value_;
};

}  // namespace pgbr::backup
