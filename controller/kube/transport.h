// HTTPS to the API server over Boost.Beast: one I/O thread, keep-alive connections with
// bounded concurrency, an optional client-side QPS limit, bearer tokens re-read when
// their file changes, and streaming responses (watches) read line by line.
//
// Everything runs on the transport's single io_context thread.
//
// GCC 12 miscompiles temporaries with destructors inside a co_await expression (they
// can be destroyed twice, e.g. a defaulted `const Options& = {}` argument): in
// coroutines, build requests into named locals first and co_await on those. Code on that thread
// uses the coroutine API (Send, OpenStream); any other thread uses SendSync/Await,
// which must never be called from the I/O thread itself (it would wait on itself).
#pragma once

#include <utility>  // must precede the Asio coroutine headers with Boost 1.74 + GCC 12

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "kube/config.h"
#include "kube/resource.h"

namespace kube {

namespace asio = boost::asio;
template <class T>
using Task = asio::awaitable<T>;

struct HttpResponse {
  int status = 0;
  std::string body;
};

struct TransportOptions {
  int max_connections = 16;  // concurrent requests (watches have their own connections)
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  double qps = 0;  // client-side request rate limit; 0: none
  int burst = 0;
  std::string user_agent = "kube-client";  // the application names itself here
};

// A response body read as newline-delimited messages (a watch). Lives on the I/O thread.
class LineStream {
 public:
  struct Impl;
  explicit LineStream(std::unique_ptr<Impl> impl);
  ~LineStream();
  // The next line, or nullopt when the server ended the response. Throws kube::Error
  // (kTimeout when nothing arrived within the idle timeout).
  Task<std::optional<std::string>> NextLine();
  // Aborts a pending NextLine (it then throws kCancelled). Call on the I/O thread.
  void Cancel();

 private:
  std::unique_ptr<Impl> impl_;
};

class Transport {
 public:
  // Throws kube::Error(kConfig) when the TLS material cannot be used.
  explicit Transport(ClusterConfig config, TransportOptions options = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  const ClusterConfig& config() const;
  asio::io_context& io() { return io_; }
  bool InIoThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  // One request and its whole answer (any status). Throws kube::Error for transport
  // failures (kTls, kConnect, kTimeout, kProtocol, kCancelled).
  Task<HttpResponse> Send(HttpRequest request);
  // A GET whose 200 body is streamed; any other status throws the API error.
  Task<std::unique_ptr<LineStream>> OpenStream(HttpRequest request,
                                               std::chrono::milliseconds idle_timeout);

  // Runs a task on the I/O thread and waits for its result (or exception).
  template <class T>
  T Await(Task<T> task) {
    if (InIoThread()) throw std::logic_error("kube: Await called on the I/O thread");
    if (stopping_) ThrowShuttingDown();
    return asio::co_spawn(io_, std::move(task), asio::use_future).get();
  }
  HttpResponse SendSync(const HttpRequest& request) { return Await(Send(request)); }

  struct Stats {
    uint64_t requests = 0;
    uint64_t connections_opened = 0;  // TLS connections established (requests and streams)
    int peak_in_flight = 0;           // most requests at once (bounded by max_connections)
  };
  Stats stats() const;

  // Stops: queued and in-flight requests and open streams fail with kCancelled, and the
  // I/O thread is joined. Idempotent; the destructor calls it.
  void Shutdown();

  struct Impl;

 private:
  [[noreturn]] static void ThrowShuttingDown();

  // Declared before io_ so that io_ is destroyed first: abandoned coroutine frames may
  // still refer to the Impl when they are destroyed.
  std::unique_ptr<Impl> impl_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::atomic<bool> stopping_{false};
  std::promise<void> finished_;
  std::thread thread_;
};

}  // namespace kube
