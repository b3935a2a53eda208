// HTTP as a hostile or careless client speaks it: raw bytes over a TCP connection to
// 127.0.0.1, with nothing fixed up, for testing what the REST gateway does with them.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace testing {

struct RawResponse {
  int status = 0;  // 0: no HTTP answer at all
  std::string body;
};

// The status line's code and the body of an answer as read off the wire.
RawResponse ParseResponse(const std::string& wire);

class RawConnection {
 public:
  explicit RawConnection(int port);  // connects, or throws
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends `bytes`; false when the peer no longer takes them (reset or closed).
  bool Send(const std::string& bytes);
  // Reads one whole answer (its headers and Content-Length bytes of body), or what came
  // until the peer closed or `timeout` passed.
  RawResponse ReadResponse(std::chrono::milliseconds timeout);
  // Reads until the peer closes the connection or `timeout` passes.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout);
  // Whether the peer closed (or reset) the connection within `timeout`; what it sent
  // before goes to `received`.
  bool ClosedWithin(std::chrono::milliseconds timeout, std::string* received = nullptr);

 private:
  // Reads until `done(received)` holds (false), the peer closes (true) or the time passes
  // (false).
  bool ReadWhile(std::chrono::milliseconds timeout, std::string* received,
                 const std::function<bool(const std::string&)>& done);

  int fd_ = -1;
};

// One request with `Connection: close` and a correct Content-Length; waits at most
// `timeout` for the answer.
RawResponse HttpCall(int port, const std::string& method, const std::string& path,
                     const std::string& body = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace testing
