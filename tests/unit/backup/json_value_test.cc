#include "backup/json_value.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "backup/format_error.h"

namespace pgbr::backup {
namespace {

std::string parseError(const std::string& text) {
  try {
    JsonValue::parse(text);
  } catch (const JsonFormatError& error) {
    return error.what();
  }
  return "no error for: " + text;
}

TEST(JsonValue, CanonicalTextRoundTrips) {
  const std::vector<std::string> samples = {
      "null",
      "true",
      "false",
      "0",
      "5",
      "7713086177070084308",
      "18446744073709551615",
      "-1",
      "-9223372036854775808",
      "\"\"",
      "\"2.45\"",
      "\"pg_data/we=ird\\\"na\\\\me.txt\"",
      "\"\\n\\r\\t\\b\\f\"",
      "\"raw \x01 and \xc3\xa9 and /\"",
      "[]",
      "[1,[3,5],7]",
      "[\"20261128-051344F\",\"20261128-051344F_20261128-051356D\"]",
      "{}",
      "{\"db-id\":7713086177070084308,\"db-version\":\"15\"}",
      "{\"a\":{\"b\":[{}]},\"b\":null}",
      "{\"Z\":1,\"a\":2,\"\xc3\xa9\":3}",  // byte order: 'Z' < 'a' < 0xc3
  };
  for (const std::string& sample : samples) {
    SCOPED_TRACE(sample);
    EXPECT_TRUE(JsonValue::isValid(sample));
    EXPECT_EQ(JsonValue::parse(sample).render(), sample);
  }
}

TEST(JsonValue, IntegersKeepTheirFullRange) {
  const JsonValue systemId = JsonValue::parse("7713086177070084308");
  EXPECT_TRUE(systemId.isUInt64());
  EXPECT_TRUE(systemId.isInt64());
  EXPECT_EQ(systemId.asUInt64(), 7713086177070084308u);

  const JsonValue max = JsonValue::parse("18446744073709551615");
  EXPECT_EQ(max.asUInt64(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(max.isInt64());
  EXPECT_EQ(parseError("18446744073709551616"), "invalid JSON at offset 0: number out of range");

  const JsonValue min = JsonValue::parse("-9223372036854775808");
  EXPECT_EQ(min.asInt64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(min.isUInt64());
  EXPECT_EQ(parseError("-9223372036854775809"), "invalid JSON at offset 0: number out of range");

  // Non-negative numbers compare equal however they were built.
  EXPECT_EQ(JsonValue(5), JsonValue(5u));
  EXPECT_EQ(JsonValue(std::int64_t{5}), JsonValue::parse("5"));
  EXPECT_EQ(JsonValue(-5).render(), "-5");
}

TEST(JsonValue, BuildsAndRendersObjectsInByteOrder) {
  JsonValue::Object object;
  object.emplace("size", 8192u);
  object.emplace("checksum-page", true);
  object.emplace("checksum", "9890dd22d170e0de4f4d9404aba2557a33b9909b");
  object.emplace("checksum-page-error", JsonValue::Array{JsonValue(1), JsonValue(JsonValue::Array{3, 5})});
  EXPECT_EQ(JsonValue(object).render(),
            "{\"checksum\":\"9890dd22d170e0de4f4d9404aba2557a33b9909b\",\"checksum-page\":true,"
            "\"checksum-page-error\":[1,[3,5]],\"size\":8192}");
}

TEST(JsonValue, StringsEscapeOnlyWhatPgBackRestEscapes) {
  std::string out;
  JsonValue::renderString(out, "we=ird\"na\\me/\n\r\t\b\f\x01\xc3\xa9");
  EXPECT_EQ(out, "\"we=ird\\\"na\\\\me/\\n\\r\\t\\b\\f\x01\xc3\xa9\"");
  EXPECT_EQ(JsonValue::parse(out).asString(), "we=ird\"na\\me/\n\r\t\b\f\x01\xc3\xa9");
}

// pgBackRest's reader also decodes \/ and \u00XX; they read fine and render in pgBackRest's own form.
TEST(JsonValue, AcceptsEscapesPgBackRestReadsButNeverWrites) {
  EXPECT_EQ(JsonValue::parse("\"a\\/b\"").asString(), "a/b");
  EXPECT_EQ(JsonValue::parse("\"a\\/b\"").render(), "\"a/b\"");
  EXPECT_EQ(JsonValue::parse("\"\\u0041\\u00e9\\u000a\"").asString(), "A\xe9\n");
  EXPECT_EQ(parseError("\"\\u0100\""), "invalid JSON at offset 2: unable to decode \\u escape beyond \\u00ff");
  EXPECT_EQ(parseError("\"\\u0000\""), "invalid JSON at offset 2: \\u0000 is not allowed");
  EXPECT_EQ(parseError("\"\\u00\""), "invalid JSON at offset 2: truncated \\u escape");
  EXPECT_EQ(parseError("\"\\u00zz\""), "invalid JSON at offset 2: invalid \\u escape");
}

TEST(JsonValue, OutOfOrderAndDuplicateKeysAreRejected) {
  // pgBackRest's reader scans forward for each key, so it reports "required key 'backrest-format' not found" for
  // this object; it cannot have been written by pgBackRest, and it is refused here as soon as it is read.
  EXPECT_EQ(parseError("{\"backrest-version\":\"2.45\",\"backrest-format\":5}"),
            "invalid JSON at offset 27: key 'backrest-format' is out of order after 'backrest-version' "
            "(keys must ascend in byte order)");
  EXPECT_EQ(parseError("{\"a\":1,\"a\":2}"), "invalid JSON at offset 7: duplicate key 'a'");
  // Byte order, not locale order: 0xc3 sorts after every ASCII letter.
  EXPECT_EQ(parseError("{\"\xc3\xa9\":1,\"z\":2}"),
            "invalid JSON at offset 8: key 'z' is out of order after '\\xc3\\xa9' (keys must ascend in byte order)");
}

TEST(JsonValue, MalformedInputNamesOffsetAndReason) {
  EXPECT_EQ(parseError(""), "invalid JSON at offset 0: expected a value but found end of value");
  EXPECT_EQ(parseError(" 1"), "invalid JSON at offset 0: expected a value but found ' '");
  EXPECT_EQ(parseError("{\"a\": 1}"), "invalid JSON at offset 5: expected a value but found ' '");
  EXPECT_EQ(parseError("1 "), "invalid JSON at offset 1: unexpected ' ' after the value");
  EXPECT_EQ(parseError("01"), "invalid JSON at offset 0: number with a leading zero");
  EXPECT_EQ(parseError("-0"), "invalid JSON at offset 0: negative zero");
  EXPECT_EQ(parseError("-"), "invalid JSON at offset 1: expected a digit");
  EXPECT_EQ(parseError("1.5"), "invalid JSON at offset 1: fractions and exponents are not supported");
  EXPECT_EQ(parseError("1e3"), "invalid JSON at offset 1: fractions and exponents are not supported");
  EXPECT_EQ(parseError("tru"), "invalid JSON at offset 0: expected 'true'");
  EXPECT_EQ(parseError("nul"), "invalid JSON at offset 0: expected 'null'");
  EXPECT_EQ(parseError("\"abc"), "invalid JSON at offset 4: unterminated string");
  EXPECT_EQ(parseError("\"a\nb\""), "invalid JSON at offset 2: unescaped control character '\\x0a' in string");
  EXPECT_EQ(parseError("\"\\x\""), "invalid JSON at offset 2: invalid escape '\\x'");
  EXPECT_EQ(parseError("{\"a\"1}"), "invalid JSON at offset 4: expected ':' but found '1'");
  EXPECT_EQ(parseError("{\"a\":1"), "invalid JSON at offset 6: expected ',' or '}' but found end of value");
  EXPECT_EQ(parseError("{a:1}"), "invalid JSON at offset 1: expected '\"' but found 'a'");
  EXPECT_EQ(parseError("[1,]"), "invalid JSON at offset 3: expected a value but found ']'");
  EXPECT_EQ(parseError("[1 2]"), "invalid JSON at offset 2: expected ',' or ']' but found ' '");
  EXPECT_EQ(parseError("{}{}"), "invalid JSON at offset 2: unexpected '{' after the value");
  EXPECT_EQ(parseError("\x80"), "invalid JSON at offset 0: expected a value but found '\\x80'");
  EXPECT_EQ(parseError(std::string(40, '[') + std::string(40, ']')),
            "invalid JSON at offset 32: nested deeper than 32 levels");
  EXPECT_FALSE(JsonValue::isValid("{\"a\":1,}"));
}

TEST(JsonValue, TypedAccessReportsMismatch) {
  const JsonValue text = JsonValue::parse("\"15\"");
  try {
    text.asUInt64();
    FAIL() << "no error";
  } catch (const JsonFormatError& error) {
    EXPECT_STREQ(error.what(), "expected unsigned integer but found string");
  }
  EXPECT_THROW(JsonValue(-1).asUInt64(), JsonFormatError);
  EXPECT_THROW(JsonValue(std::numeric_limits<std::uint64_t>::max()).asInt64(), JsonFormatError);
  EXPECT_THROW(JsonValue(1).asBool(), JsonFormatError);
  EXPECT_THROW(JsonValue(true).asString(), JsonFormatError);
  EXPECT_THROW(JsonValue().asObject(), JsonFormatError);
  EXPECT_THROW(JsonValue(JsonValue::Object{}).asArray(), JsonFormatError);
  EXPECT_EQ(JsonValue(nullptr).type(), JsonValue::Type::Null);
}

}  // namespace
}  // namespace pgbr::backup
