#include "backup/json_value.h"

#include <charconv>
#include <limits>

#include "backup/format_error.h"

namespace pgbr::backup {
namespace {

// pgBackRest's values nest at most three deep (a checksum-page-error range inside an array inside an object);
// the limit only keeps hostile input from exhausting the stack.
constexpr int kMaxDepth = 32;

std::string printable(char c) { return printableForMessage(std::string_view(&c, 1)); }

// One parser for both uses: kBuild = true builds the value, false only checks the text (no allocation except for
// object keys, whose order is checked), which is what the ini reader needs to find where a key ends.
template <bool kBuild>
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  JsonValue parseDocument() {
    JsonValue value = parseValue(0);
    if (pos_ != text_.size()) fail("unexpected '" + printable(text_[pos_]) + "' after the value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const {
    throw JsonFormatError("invalid JSON at offset " + std::to_string(pos_) + ": " + reason);
  }

  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  void expect(char c) {
    if (atEnd()) fail(std::string("expected '") + c + "' but found end of value");
    if (peek() != c) fail(std::string("expected '") + c + "' but found '" + printable(peek()) + "'");
    ++pos_;
  }

  JsonValue parseValue(int depth) {
    if (atEnd()) fail("expected a value but found end of value");
    switch (peek()) {
      case '{':
        return parseObject(depth + 1);
      case '[':
        return parseArray(depth + 1);
      case '"':
        if constexpr (kBuild) return JsonValue(parseString());
        scanString(nullptr);
        return JsonValue();
      case 't':
        parseLiteral("true");
        return JsonValue(true);
      case 'f':
        parseLiteral("false");
        return JsonValue(false);
      case 'n':
        parseLiteral("null");
        return JsonValue(nullptr);
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return parseNumber();
        fail("expected a value but found '" + printable(peek()) + "'");
    }
  }

  void checkDepth(int depth) const {
    if (depth > kMaxDepth) fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }

  JsonValue parseObject(int depth) {
    checkDepth(depth);
    expect('{');
    JsonValue::Object object;
    if (!atEnd() && peek() == '}') {
      ++pos_;
      return JsonValue(std::move(object));
    }
    std::string previousKeyStorage;  // validation only: the map holds the keys when building
    const std::string* previousKey = nullptr;
    for (;;) {
      const std::size_t keyOffset = pos_;
      if (atEnd() || peek() != '"')
        fail(atEnd() ? "expected '\"' but found end of value"
                     : "expected '\"' but found '" + printable(peek()) + "'");
      std::string key = parseString();
      // pgBackRest's reader scans forward for each key it needs, so an object whose keys do not ascend would be
      // misread by it (a skipped required key is reported as "required key ... not found"). Such an object
      // cannot have come from pgBackRest; refuse it rather than guess.
      if (previousKey != nullptr && !(*previousKey < key)) {
        pos_ = keyOffset;
        fail(*previousKey == key ? "duplicate key '" + printableForMessage(key) + "'"
                                 : "key '" + printableForMessage(key) + "' is out of order after '" +
                                       printableForMessage(*previousKey) + "' (keys must ascend in byte order)");
      }
      expect(':');
      JsonValue member = parseValue(depth);
      if constexpr (kBuild) {
        previousKey = &object.emplace_hint(object.end(), std::move(key), std::move(member))->first;
      } else {
        previousKeyStorage = std::move(key);
        previousKey = &previousKeyStorage;
      }
      if (atEnd()) fail("expected ',' or '}' but found end of value");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return JsonValue(std::move(object));
      }
      fail("expected ',' or '}' but found '" + printable(peek()) + "'");
    }
  }

  JsonValue parseArray(int depth) {
    checkDepth(depth);
    expect('[');
    JsonValue::Array array;
    if (!atEnd() && peek() == ']') {
      ++pos_;
      return JsonValue(std::move(array));
    }
    for (;;) {
      JsonValue element = parseValue(depth);
      if constexpr (kBuild) array.push_back(std::move(element));
      if (atEnd()) fail("expected ',' or ']' but found end of value");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return JsonValue(std::move(array));
      }
      fail("expected ',' or ']' but found '" + printable(peek()) + "'");
    }
  }

  static void append(std::string* out, char c) {
    if (out != nullptr) *out += c;
  }

  static int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  std::string parseString() {
    std::string out;
    scanString(&out);
    return out;
  }

  // Reads a string, appending the decoded bytes to `out` unless it is null.
  void scanString(std::string* out) {
    expect('"');
    for (;;) {
      // Copy the run of plain bytes up to the next byte that needs a look.
      const std::size_t runStart = pos_;
      while (pos_ < text_.size() && !needsLook(text_[pos_])) ++pos_;
      if (out != nullptr) out->append(text_.data() + runStart, pos_ - runStart);
      if (atEnd()) fail("unterminated string");
      const char c = peek();
      if (c == '"') {
        ++pos_;
        return;
      }
      if (c == '\\') {
        ++pos_;
        if (atEnd()) fail("unterminated string");
        const char escape = peek();
        switch (escape) {
          case '"':
          case '\\':
          case '/':  // never written by pgBackRest, but its reader decodes it
            append(out, escape);
            break;
          case 'n':
            append(out, '\n');
            break;
          case 'r':
            append(out, '\r');
            break;
          case 't':
            append(out, '\t');
            break;
          case 'b':
            append(out, '\b');
            break;
          case 'f':
            append(out, '\f');
            break;
          case 'u': {
            // pgBackRest decodes only \u00XX (one byte); anything wider is an error there too.
            if (text_.size() - pos_ < 5) fail("truncated \\u escape");
            const int d0 = hexDigit(text_[pos_ + 1]), d1 = hexDigit(text_[pos_ + 2]);
            const int d2 = hexDigit(text_[pos_ + 3]), d3 = hexDigit(text_[pos_ + 4]);
            if (d0 < 0 || d1 < 0 || d2 < 0 || d3 < 0) fail("invalid \\u escape");
            if (d0 != 0 || d1 != 0) fail("unable to decode \\u escape beyond \\u00ff");
            const int byte = d2 * 16 + d3;
            if (byte == 0) fail("\\u0000 is not allowed");
            append(out, static_cast<char>(byte));
            pos_ += 4;
            break;
          }
          default:
            fail("invalid escape '\\" + printable(escape) + "'");
        }
        ++pos_;
        continue;
      }
      fail("unescaped control character '" + printable(c) + "' in string");
    }
  }

  // The quote, the backslash, and the bytes that have a short escape (they must use it: pgBackRest never writes
  // them raw, and a raw LF would end the ini line anyway).
  static bool needsLook(char c) {
    return c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f';
  }

  void parseLiteral(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal)
      fail("expected '" + std::string(literal) + "'");
    pos_ += literal.size();
  }

  JsonValue parseNumber() {
    const std::size_t start = pos_;
    const bool negative = peek() == '-';
    if (negative) ++pos_;
    const std::size_t digitsStart = pos_;
    while (!atEnd() && peek() >= '0' && peek() <= '9') ++pos_;
    const std::size_t digits = pos_ - digitsStart;
    if (digits == 0) fail("expected a digit");
    if (digits > 1 && text_[digitsStart] == '0') {
      pos_ = digitsStart;
      fail("number with a leading zero");
    }
    if (!atEnd() && (peek() == '.' || peek() == 'e' || peek() == 'E'))
      fail("fractions and exponents are not supported");
    std::uint64_t magnitude = 0;
    const auto [end, error] = std::from_chars(text_.data() + digitsStart, text_.data() + pos_, magnitude);
    if (error != std::errc() || end != text_.data() + pos_) {
      pos_ = start;
      fail("number out of range");
    }
    if (!negative) return JsonValue(magnitude);
    constexpr std::uint64_t kMinMagnitude = std::uint64_t{1} << 63;  // |INT64_MIN|
    if (magnitude == 0) {
      pos_ = start;
      fail("negative zero");
    }
    if (magnitude > kMinMagnitude) {
      pos_ = start;
      fail("number out of range");
    }
    if (magnitude == kMinMagnitude) return JsonValue(std::numeric_limits<std::int64_t>::min());
    return JsonValue(-static_cast<std::int64_t>(magnitude));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

JsonValue JsonValue::parse(std::string_view text) { return Parser<true>(text).parseDocument(); }

bool JsonValue::isValid(std::string_view text) {
  try {
    Parser<false>(text).parseDocument();
    return true;
  } catch (const JsonFormatError&) {
    return false;
  }
}

void JsonValue::renderString(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += c;
    }
  }
  out += '"';
}

void JsonValue::renderTo(std::string& out) const {
  switch (type()) {
    case Type::Null:
      out += "null";
      return;
    case Type::Bool:
      out += std::get<bool>(value_) ? "true" : "false";
      return;
    case Type::Integer:
      if (const auto* unsignedValue = std::get_if<std::uint64_t>(&value_))
        out += std::to_string(*unsignedValue);
      else
        out += std::to_string(std::get<std::int64_t>(value_));
      return;
    case Type::String:
      renderString(out, std::get<std::string>(value_));
      return;
    case Type::Array: {
      out += '[';
      bool first = true;
      for (const JsonValue& element : std::get<Array>(value_)) {
        if (!first) out += ',';
        first = false;
        element.renderTo(out);
      }
      out += ']';
      return;
    }
    case Type::Object: {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : std::get<Object>(value_)) {
        if (!first) out += ',';
        first = false;
        renderString(out, key);
        out += ':';
        member.renderTo(out);
      }
      out += '}';
      return;
    }
  }
}

std::string JsonValue::render() const {
  std::string out;
  renderTo(out);
  return out;
}

JsonValue::Type JsonValue::type() const noexcept {
  // Storage order: null, bool, int64, uint64, string, array, object; both integer alternatives are Integer.
  static constexpr Type kTypes[] = {Type::Null,   Type::Bool,  Type::Integer, Type::Integer,
                                    Type::String, Type::Array, Type::Object};
  return kTypes[value_.index()];
}

bool JsonValue::isInt64() const noexcept {
  if (std::holds_alternative<std::int64_t>(value_)) return true;
  const auto* unsignedValue = std::get_if<std::uint64_t>(&value_);
  return unsignedValue != nullptr &&
         *unsignedValue <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
}

const char* JsonValue::typeName(Type type) noexcept {
  switch (type) {
    case Type::Null:
      return "null";
    case Type::Bool:
      return "boolean";
    case Type::Integer:
      return "integer";
    case Type::String:
      return "string";
    case Type::Array:
      return "array";
    case Type::Object:
      return "object";
  }
  return "unknown";
}

void JsonValue::throwTypeMismatch(const char* expected) const {
  std::string found = typeName(type());
  if (isInteger()) found = std::holds_alternative<std::int64_t>(value_) ? "negative integer" : "integer " + render();
  throw JsonFormatError(std::string("expected ") + expected + " but found " + found);
}

bool JsonValue::asBool() const {
  if (!isBool()) throwTypeMismatch("boolean");
  return std::get<bool>(value_);
}

std::uint64_t JsonValue::asUInt64() const {
  if (!isUInt64()) throwTypeMismatch("unsigned integer");
  return std::get<std::uint64_t>(value_);
}

std::int64_t JsonValue::asInt64() const {
  if (!isInt64()) throwTypeMismatch("64-bit signed integer");
  if (const auto* signedValue = std::get_if<std::int64_t>(&value_)) return *signedValue;
  return static_cast<std::int64_t>(std::get<std::uint64_t>(value_));
}

const std::string& JsonValue::asString() const {
  if (!isString()) throwTypeMismatch("string");
  return std::get<std::string>(value_);
}

std::string& JsonValue::asString() {
  if (!isString()) throwTypeMismatch("string");
  return std::get<std::string>(value_);
}

const JsonValue::Array& JsonValue::asArray() const {
  if (!isArray()) throwTypeMismatch("array");
  return std::get<Array>(value_);
}

JsonValue::Array& JsonValue::asArray() {
  if (!isArray()) throwTypeMismatch("array");
  return std::get<Array>(value_);
}

const JsonValue::Object& JsonValue::asObject() const {
  if (!isObject()) throwTypeMismatch("object");
  return std::get<Object>(value_);
}

JsonValue::Object& JsonValue::asObject() {
  if (!isObject()) throwTypeMismatch("object");
  return std::get<Object>(value_);
}

}  // namespace pgbr::backup
