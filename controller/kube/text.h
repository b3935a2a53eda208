// Text from outside the process (client strings, API error bodies) made safe to print:
// one line, valid UTF-8, bounded. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kube {

// `text` with every control character (C0 and DEL) and every byte that is not part of
// valid UTF-8 written as an escape (\n, \r, \t, \xNN), so that it can never start a new
// log line or move a terminal's cursor. With `quote_marks`, '"' and '\' are escaped too.
// Only the first `max_bytes` bytes of `text` are rendered; a cut ends with
// "...(N more bytes)".
std::string EscapeText(std::string_view text, size_t max_bytes, bool quote_marks = false);

// "text" in double quotes, escaped as above: how a message names a string it was given.
std::string Quoted(std::string_view text, size_t max_bytes = 64);

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are not valid).
size_t Utf8SequenceLength(std::string_view s);

// Whether `s` is valid UTF-8 with no control characters (C0 and DEL).
bool IsPrintableUtf8(std::string_view s);

}  // namespace kube
