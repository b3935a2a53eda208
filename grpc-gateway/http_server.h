// A small HTTP/1.1 server (Boost.Beast) that slow, idle or hostile clients cannot hang.
//
// Why not cpprestsdk's http_listener (2.10.18, measured here; README "The provider
// service"): its 40 pool threads both read bodies and run handlers, so 40 handlers
// waiting for a body hang every endpoint for good and close() never returns; and with
// non-blocking handlers it still never times out an idle or half-sent connection
// (set_timeout does not apply to those reads) and has no connection cap.
//
// What this server guarantees:
// - every socket operation is asynchronous, on one I/O thread; no handler runs there
//   unless it is quick (Options::runs_inline: health, readiness, metrics);
// - a request (headers and body) must arrive within read_timeout of the connection
//   being ready for it, and a response must be taken within write_timeout; a connection
//   that misses either is closed (408 when part of a request had come);
// - at most max_connections at once; past that, a new connection gets 503 and is closed;
// - bodies over max_body_bytes get 413, headers over max_header_bytes 431, a malformed
//   request 400 (a bad Content-Length among them), each with a message and Connection: close;
// - Stop(deadline) returns by the deadline whatever the clients do: it stops accepting,
//   closes connections that are idle or still sending, lets answers in progress be
//   written until the deadline, then closes the rest.
//
// Threads and locks:
// - the I/O thread (started by Start) runs accept, every read, write and timer, and the
//   inline handlers; Session objects are touched only there, except for their removal
//   from the registry in ~Session;
// - `handler_threads` pool threads run the other handlers; each posts its response back
//   to the I/O thread;
// - Stop runs on the caller's thread and waits for both;
// - mu_ guards sessions_ (the registry of open connections); it is a leaf lock: nothing
//   else is locked or called while it is held.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace iarnet {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // the path with its query, as sent
  std::string body;
  std::string remote_ip;  // the client's address ("" when the socket no longer knows it)
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";
    int port = 8080;  // 0: the kernel picks one (see port())
    size_t max_connections = 256;
    std::chrono::milliseconds read_timeout{10000};
    std::chrono::milliseconds write_timeout{10000};
    size_t max_body_bytes = 4 << 20;  // as gRPC's default receive limit
    size_t max_header_bytes = 16 << 10;
    int handler_threads = 4;
    // True for requests whose handler is quick and never blocks: they are answered on
    // the I/O thread and never wait behind slow handlers.
    std::function<bool(const HttpRequest&)> runs_inline;
    // Told of every response, the server's own refusals (400, 408, 413, 431, 503)
    // included; runs on the I/O thread.
    std::function<void(const HttpRequest&, int status)> on_response;
    // The body of the server's own refusals; plain text when unset.
    std::function<HttpResponse(int status, const std::string& message)> error_response;
  };
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // `handler` must not throw; it runs inline or on a pool thread (see Options).
  HttpServer(Options options, Handler handler);
  ~HttpServer();  // Stop() with no grace
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void Start();  // binds and listens; throws std::system_error when it cannot
  int port() const { return bound_port_; }
  // Stops accepting and closes connections that are not being answered; answers in
  // progress may still finish. Idempotent; Stop does it too.
  void BeginShutdown();
  // Returns by `deadline` (plus the time running handlers need to return, which their own
  // timeouts bound): connections still open then are closed.
  void Stop(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::now());

  struct Stats {
    size_t open_connections = 0;
  };
  Stats stats();

 private:
  class Session;
  struct Impl;

  void Accept();
  void Register(const std::shared_ptr<Session>& s);
  void Unregister(Session* s);
  std::vector<std::shared_ptr<Session>> OpenSessions();

  Options options_;
  Handler handler_;
  std::unique_ptr<Impl> impl_;
  std::thread io_thread_;
  int bound_port_ = 0;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;

  std::mutex mu_;
  std::condition_variable drained_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by mu_
};

}  // namespace iarnet
