#include "tests/support/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <stdexcept>

namespace testing {

RawConnection::RawConnection(int port) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd_ >= 0) close(fd_);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) close(fd_);
}

bool RawConnection::Send(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool RawConnection::ClosedWithin(std::chrono::milliseconds timeout, std::string* received) {
  std::string ignored;
  return ReadWhile(timeout, received ? received : &ignored,
                   [](const std::string&) { return false; });
}

namespace {

// Whether `wire` holds a whole answer: headers, and as many body bytes as they announce.
bool Complete(const std::string& wire) {
  size_t end = wire.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = wire.substr(0, end);
  for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  size_t at = head.find("\r\ncontent-length:");
  if (at == std::string::npos) return true;
  size_t length = std::stoul(head.substr(at + 17));
  return wire.size() >= end + 4 + length;
}

}  // namespace

RawResponse RawConnection::ReadResponse(std::chrono::milliseconds timeout) {
  std::string wire;
  ReadWhile(timeout, &wire, Complete);
  return ParseResponse(wire);
}

bool RawConnection::ReadWhile(std::chrono::milliseconds timeout, std::string* received,
                              const std::function<bool(const std::string&)>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;  // closed, or reset
    received->append(buf, static_cast<size_t>(n));
    if (done(*received)) return false;
  }
}

std::string RawConnection::ReadUntilClosed(std::chrono::milliseconds timeout) {
  std::string out;
  ClosedWithin(timeout, &out);
  return out;
}

RawResponse ParseResponse(const std::string& wire) {
  RawResponse r;
  if (wire.rfind("HTTP/1.", 0) != 0 || wire.size() < 12) return r;
  r.status = std::stoi(wire.substr(9, 3));
  size_t end = wire.find("\r\n\r\n");
  if (end != std::string::npos) r.body = wire.substr(end + 4);
  return r;
}

RawResponse HttpCall(int port, const std::string& method, const std::string& path,
                     const std::string& body, std::chrono::milliseconds timeout) {
  RawConnection c(port);
  c.Send(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body);
  return c.ReadResponse(timeout);
}

}  // namespace testing
