#include "api/quantity.h"

#include <catch2/catch.hpp>

using iarnet::FormatBytes;
using iarnet::FormatMillicores;
using iarnet::ParseMilliQuantity;
using iarnet::ParseQuantity;
using iarnet::QuantityError;

namespace {
int64_t Value(iarnet::QuantityResult r) {
  if (auto* e = std::get_if<QuantityError>(&r)) FAIL(e->message);
  return std::get<int64_t>(r);
}
std::string ErrorOf(iarnet::QuantityResult r) {
  auto* e = std::get_if<QuantityError>(&r);
  REQUIRE(e != nullptr);
  return e->message;
}
}  // namespace

TEST_CASE("binary suffixes are powers of 1024") {
  CHECK(Value(ParseQuantity("1Ki")) == 1024);
  CHECK(Value(ParseQuantity("512Mi")) == 512LL << 20);
  CHECK(Value(ParseQuantity("8Gi")) == 8LL << 30);
  CHECK(Value(ParseQuantity("1.5Gi")) == 1610612736);
  CHECK(Value(ParseQuantity("2Ti")) == 2LL << 40);
  CHECK(Value(ParseQuantity("3Pi")) == 3LL << 50);
  CHECK(Value(ParseQuantity("7Ei")) == 7LL << 60);
}

TEST_CASE("decimal suffixes are powers of 1000") {
  CHECK(Value(ParseQuantity("8G")) == 8000000000);
  CHECK(Value(ParseQuantity("1k")) == 1000);
  CHECK(Value(ParseQuantity("1M")) == 1000000);
  CHECK(Value(ParseQuantity("2T")) == 2000000000000);
  CHECK(Value(ParseQuantity("1P")) == 1000000000000000);
  CHECK(Value(ParseQuantity("9E")) == 9000000000000000000);
  CHECK(Value(ParseMilliQuantity("500m")) == 500);
  CHECK(Value(ParseMilliQuantity("1500u")) == 2);  // 1.5 milli rounds up
  CHECK(Value(ParseMilliQuantity("1000000n")) == 1);
  CHECK(Value(ParseMilliQuantity("2")) == 2000);
  CHECK(Value(ParseMilliQuantity("0.1")) == 100);
}

TEST_CASE("exponents and plain numbers") {
  CHECK(Value(ParseQuantity("2e3")) == 2000);
  CHECK(Value(ParseQuantity("1E6")) == 1000000);
  CHECK(Value(ParseQuantity("5e+2")) == 500);
  CHECK(Value(ParseMilliQuantity("1e-3")) == 1);
  CHECK(Value(ParseQuantity("0")) == 0);
  CHECK(Value(ParseQuantity("007")) == 7);
  CHECK(Value(ParseQuantity("+12")) == 12);
  CHECK(Value(ParseQuantity("-12")) == -12);
  CHECK(Value(ParseQuantity(".5")) == 1);  // rounds up, like Quantity.Value()
  CHECK(Value(ParseQuantity("0.000001Ki")) == 1);
  CHECK(Value(ParseQuantity("0.0")) == 0);
}

TEST_CASE("rounding is upwards and away from zero") {
  CHECK(Value(ParseQuantity("1.1")) == 2);
  CHECK(Value(ParseQuantity("-1.1")) == -2);
  CHECK(Value(ParseMilliQuantity("0.0001")) == 1);
  CHECK(Value(ParseQuantity("100m")) == 1);
}

TEST_CASE("the int64 boundary is exact and overflow is an error") {
  CHECK(Value(ParseQuantity("9223372036854775807")) == INT64_MAX);
  CHECK(ErrorOf(ParseQuantity("9223372036854775808")).find("out of range") != std::string::npos);
  CHECK(ErrorOf(ParseQuantity("8Ei")).find("out of range") != std::string::npos);
  CHECK(ErrorOf(ParseQuantity("10E")).find("out of range") != std::string::npos);
  CHECK(ErrorOf(ParseMilliQuantity("9223372036854775807")).find("out of range") !=
        std::string::npos);
  CHECK(Value(ParseMilliQuantity("9223372036854775807m")) == INT64_MAX);
  CHECK(ErrorOf(ParseQuantity("1e999")).find("out of range") != std::string::npos);
  CHECK(ErrorOf(ParseQuantity("1e9999")).find("unknown suffix") != std::string::npos);
  CHECK(Value(ParseQuantity("1e-999")) == 1);
  CHECK(ErrorOf(ParseQuantity("1234567890123456789012345678901")).find("too many digits") !=
        std::string::npos);
}

TEST_CASE("malformed quantities are errors that quote the input") {
  for (const char* bad : {"", "Gi", "1.5.5", "1GB", "1gi", "1 Gi", "abc", "-", "1e", "0x10", "1ii",
                          "1K", "--1", "1e3Gi"}) {
    INFO(bad);
    std::string message = ErrorOf(ParseQuantity(bad));
    CHECK(message.find("invalid quantity \"" + std::string(bad) + "\"") == 0);
  }
}

TEST_CASE("formatting is canonical and round-trips") {
  CHECK(FormatMillicores(1500) == "1500m");
  CHECK(FormatMillicores(2000) == "2");
  CHECK(FormatMillicores(0) == "0");
  CHECK(FormatBytes(8LL << 30) == "8Gi");
  CHECK(FormatBytes(1536LL << 20) == "1536Mi");
  CHECK(FormatBytes(1000) == "1000");
  CHECK(FormatBytes(0) == "0");
  CHECK(FormatBytes(7LL << 60) == "7Ei");
  for (int64_t v :
       {int64_t{1}, int64_t{999}, int64_t{1024}, int64_t{123456789}, int64_t{1} << 40, INT64_MAX}) {
    CHECK(Value(ParseQuantity(FormatBytes(v))) == v);
    CHECK(Value(ParseMilliQuantity(FormatMillicores(v))) == v);
  }
}
