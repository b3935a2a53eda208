#include "kube/text.h"

#include <catch2/catch.hpp>

using kube::EscapeText;
using kube::Quoted;

TEST_CASE("text: control characters and broken UTF-8 are escaped, valid UTF-8 is kept") {
  CHECK(EscapeText("plain text", 100) == "plain text");
  CHECK(EscapeText("a\nE1231 23:59:59 FORGED", 100) == "a\\nE1231 23:59:59 FORGED");
  CHECK(EscapeText(std::string("\x1b[2J\0\r\t\x7f", 8), 100) == "\\x1b[2J\\x00\\r\\t\\x7f");
  CHECK(EscapeText("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 100) ==
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(EscapeText("\xff\xc3", 100) == "\\xff\\xc3");           // invalid, truncated
  CHECK(EscapeText("\xc0\xaf", 100) == "\\xc0\\xaf");           // overlong '/'
  CHECK(EscapeText("\xed\xa0\x80", 100) == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(EscapeText("say \"hi\" \\", 100) == "say \"hi\" \\");
  CHECK(EscapeText("say \"hi\" \\", 100, true) == "say \\\"hi\\\" \\\\");
}

TEST_CASE("text: only a bounded prefix is rendered, and the cut says how much is left") {
  std::string big(1 << 20, 'x');
  std::string out = EscapeText(big, 64);
  CHECK(out == std::string(64, 'x') + "...(1048512 more bytes)");
  CHECK(Quoted(big).size() < 100);
  CHECK(Quoted("comp.1") == "\"comp.1\"");
}

TEST_CASE("text: printable UTF-8 is told apart from control characters and broken bytes") {
  CHECK(kube::IsPrintableUtf8("comp.abc-\xc3\xa9"));
  CHECK(kube::IsPrintableUtf8(""));
  CHECK_FALSE(kube::IsPrintableUtf8("a\nb"));
  CHECK_FALSE(kube::IsPrintableUtf8(std::string("a\0b", 3)));
  CHECK_FALSE(kube::IsPrintableUtf8("\x1b"));
  CHECK_FALSE(kube::IsPrintableUtf8("\xff"));
}
