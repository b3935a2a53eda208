#include "kube/transport.h"

#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <set>

#include "kube/backoff.h"
#include "kube/error.h"

namespace kube {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using asio::redirect_error;
using asio::use_awaitable;
using boost::system::error_code;

// Idle keep-alive connections older than this are closed rather than reused, well
// before a server or proxy would drop them under us.
constexpr auto kMaxIdle = std::chrono::seconds(45);

struct ServerAddress {
  std::string host;  // without brackets
  std::string port;
  std::string host_header;
};

ServerAddress ParseServer(const std::string& server) {
  const std::string prefix = "https://";
  if (server.rfind(prefix, 0) != 0) {
    throw Error(ErrorKind::kConfig,
                "server " + server + ": only https:// API servers are supported");
  }
  std::string rest = server.substr(prefix.size());
  rest = rest.substr(0, rest.find('/'));
  ServerAddress a;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos)
      throw Error(ErrorKind::kConfig, "server " + server + ": bad IPv6 address");
    a.host = rest.substr(1, close - 1);
    a.port = rest.size() > close + 2 ? rest.substr(close + 2) : "443";
  } else {
    auto colon = rest.rfind(':');
    a.host = rest.substr(0, colon);
    a.port = colon == std::string::npos ? "443" : rest.substr(colon + 1);
  }
  if (a.host.empty()) throw Error(ErrorKind::kConfig, "server " + server + ": no host");
  a.host_header = rest;
  return a;
}

bool IsIpAddress(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Turns a Beast/Asio/OpenSSL failure into a typed error with a message that says what
// to check.
Error TransportError(const error_code& ec, const std::string& what, const std::string& server) {
  std::string detail = ec.message();
  if (ec == beast::error::timeout) {
    return Error(ErrorKind::kTimeout, what + ": no answer from " + server + " in time");
  }
  if (ec == asio::error::operation_aborted) {
    return Error(ErrorKind::kCancelled, what + ": cancelled (client shutting down)");
  }
  if (ec == ssl::error::stream_truncated || ec == http::error::end_of_stream ||
      ec == asio::error::eof || ec == asio::error::connection_reset) {
    return Error(ErrorKind::kProtocol, what + ": " + server + " closed the connection");
  }
  if (ec.category() == asio::error::get_ssl_category()) {
    std::string hint;
    if (detail.find("certificate verify failed") != std::string::npos) {
      hint = " (the server's certificate is not signed by the configured certificate-authority)";
    } else if (detail.find("alert") != std::string::npos) {
      hint = " (the server rejected the TLS session; is the client certificate signed by its CA?)";
    }
    return Error(ErrorKind::kTls, what + ": TLS with " + server + " failed: " + detail + hint);
  }
  if (ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
      ec == asio::error::network_unreachable || ec == asio::error::host_not_found ||
      ec == asio::error::host_not_found_try_again) {
    return Error(ErrorKind::kConnect, what + ": cannot connect to " + server + ": " + detail);
  }
  return Error(ErrorKind::kProtocol, what + ": connection to " + server + " failed: " + detail);
}

using SslStream = beast::ssl_stream<beast::tcp_stream>;

struct Connection {
  Connection(asio::io_context& io, ssl::context& ctx) : stream(io, ctx) {}
  SslStream stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;
};

}  // namespace

// --- Impl -----------------------------------------------------------------------------

struct Transport::Impl {
  Impl(asio::io_context& io, ClusterConfig c, TransportOptions o)
      : io(io),
        config(std::move(c)),
        options(o),
        address(ParseServer(config.server)),
        tls(ssl::context::tls_client),
        free_slots(std::max(1, o.max_connections)),
        bucket(o.qps, std::max(1, o.burst)) {
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    if (config.insecure_skip_tls_verify) {
      tls.set_verify_mode(ssl::verify_none);
    } else {
      tls.set_verify_mode(ssl::verify_peer);
      if (config.ca_pem.empty()) {
        tls.set_default_verify_paths(ec);
      } else {
        tls.add_certificate_authority(asio::buffer(config.ca_pem), ec);
      }
      if (ec)
        throw Error(ErrorKind::kConfig, config.source + ": certificate-authority: " + ec.message());
    }
    if (!config.client_cert_pem.empty()) {
      tls.use_certificate_chain(asio::buffer(config.client_cert_pem), ec);
      if (ec)
        throw Error(ErrorKind::kConfig, config.source + ": client-certificate: " + ec.message());
      tls.use_private_key(asio::buffer(config.client_key_pem), ssl::context::pem, ec);
      if (ec) throw Error(ErrorKind::kConfig, config.source + ": client-key: " + ec.message());
    }
    verify_name = config.tls_server_name.empty() ? address.host : config.tls_server_name;
  }

  asio::io_context& io;
  ClusterConfig config;
  TransportOptions options;
  ServerAddress address;
  ssl::context tls;
  std::string verify_name;
  bool closing = false;

  // Keep-alive connections, most recently used last.
  std::deque<std::unique_ptr<Connection>> idle;
  // Connections in use by requests and streams, so Shutdown can abort them.
  std::set<Connection*> active;

  // Bounded concurrency: free slots, and the requests waiting for one. A waiter's timer
  // expires at the request's deadline (never, without one); Release hands a slot over by
  // marking the first waiter granted and cancelling its timer.
  struct SlotWaiter {
    explicit SlotWaiter(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    bool granted = false;
  };
  int free_slots;
  std::deque<std::shared_ptr<SlotWaiter>> slot_waiters;

  // Counters, written on the I/O thread.
  std::atomic<uint64_t> requests{0}, connections_opened{0};
  std::atomic<int> in_flight{0}, peak_in_flight{0};

  // Client-side QPS limit.
  TokenBucketLimiter bucket;

  // Bearer token from a file, re-read when the file's modification time changes.
  std::string file_token;
  struct timespec file_token_mtime {};

  std::string Authorization() {
    if (!config.token_file.empty()) {
      struct stat st {};
      if (stat(config.token_file.c_str(), &st) == 0 &&
          (st.st_mtim.tv_sec != file_token_mtime.tv_sec ||
           st.st_mtim.tv_nsec != file_token_mtime.tv_nsec || file_token.empty())) {
        try {
          std::string t = ReadFileOrThrow(config.token_file);
          while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
          if (!t.empty()) {
            file_token = t;
            file_token_mtime = st.st_mtim;
          }
        } catch (const Error&) {
          // Mid-rotation: keep using the previous token.
        }
      }
      if (!file_token.empty()) return "Bearer " + file_token;
    }
    if (!config.token.empty()) return "Bearer " + config.token;
    return "";
  }

  Task<void> AcquireSlot(const HttpRequest& r) {
    if (closing) throw Error(ErrorKind::kCancelled, "kube: client is shutting down");
    if (free_slots > 0) {
      --free_slots;
      co_return;
    }
    auto waiter = std::make_shared<SlotWaiter>(io);
    waiter->timer.expires_at(r.deadline ? *r.deadline : Clock::time_point::max());
    slot_waiters.push_back(waiter);
    error_code ec;
    co_await waiter->timer.async_wait(redirect_error(use_awaitable, ec));
    // Woken by ReleaseSlot (the slot is now ours), by Shutdown, or by the deadline.
    if (closing) {
      if (waiter->granted) ReleaseSlot();
      throw Error(ErrorKind::kCancelled, "kube: client is shutting down");
    }
    if (!waiter->granted) {
      std::erase(slot_waiters, waiter);
      throw Error(ErrorKind::kTimeout, r.what + ": no free connection before its deadline");
    }
  }

  void ReleaseSlot() {
    if (!slot_waiters.empty() && !closing) {
      auto next = slot_waiters.front();
      slot_waiters.pop_front();
      next->granted = true;
      next->timer.cancel();
    } else {
      ++free_slots;
    }
  }

  Task<void> RateLimit(const HttpRequest& r) {
    if (options.qps <= 0) co_return;
    auto wait = bucket.When(Clock::now());  // reserves; a debt is paid by waiting
    if (wait.count() <= 0) co_return;
    if (r.deadline && Clock::now() + wait > *r.deadline)
      throw Error(ErrorKind::kTimeout, r.what + ": the client's rate limit passes its deadline");
    asio::steady_timer timer(io, wait);
    co_await timer.async_wait(use_awaitable);
  }

  // The end of one step that takes at most `step`, and ends by the request's deadline.
  static Clock::time_point StepEnd(const HttpRequest& r, std::chrono::milliseconds step) {
    auto end = Clock::now() + step;
    return r.deadline ? std::min(end, *r.deadline) : end;
  }

  std::unique_ptr<Connection> TakeIdle() {
    while (!idle.empty()) {
      auto c = std::move(idle.back());
      idle.pop_back();
      if (Clock::now() - c->idle_since < kMaxIdle) return c;
      error_code ignored;
      beast::get_lowest_layer(c->stream).socket().close(ignored);
    }
    return nullptr;
  }

  Task<std::unique_ptr<Connection>> Connect(const HttpRequest& r) {
    const std::string& what = r.what;
    auto c = std::make_unique<Connection>(io, tls);
    auto& lowest = beast::get_lowest_layer(c->stream);
    error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = co_await resolver.async_resolve(address.host, address.port,
                                                     redirect_error(use_awaitable, ec));
    if (ec) throw TransportError(ec, what, config.server);
    lowest.expires_at(StepEnd(r, options.connect_timeout));
    active.insert(c.get());
    co_await lowest.async_connect(endpoints, redirect_error(use_awaitable, ec));
    if (!ec && !IsIpAddress(verify_name)) {
      SSL_set_tlsext_host_name(c->stream.native_handle(), verify_name.c_str());
    }
    if (!ec && !config.insecure_skip_tls_verify) {
      c->stream.set_verify_callback(ssl::host_name_verification(verify_name));
    }
    if (!ec)
      co_await c->stream.async_handshake(ssl::stream_base::client,
                                         redirect_error(use_awaitable, ec));
    active.erase(c.get());
    if (ec) throw TransportError(ec, what, config.server);
    if (closing) throw Error(ErrorKind::kCancelled, what + ": cancelled (client shutting down)");
    ++connections_opened;
    co_return c;
  }

  http::request<http::string_body> MakeRequest(const HttpRequest& r) {
    http::request<http::string_body> req;
    req.method_string(r.method);
    req.target(r.target);
    req.version(11);
    req.set(http::field::host, address.host_header);
    req.set(http::field::user_agent, options.user_agent);
    req.set(http::field::accept, "application/json");
    if (auto auth = Authorization(); !auth.empty()) req.set(http::field::authorization, auth);
    if (!r.content_type.empty()) req.set(http::field::content_type, r.content_type);
    req.body() = r.body;
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  // One exchange on one connection. `fresh` is false for a reused keep-alive
  // connection, whose failure before any answer byte is worth one retry.
  struct Exchange {
    error_code ec;
    bool answered = false;
    HttpResponse response;
    bool keep_alive = false;
  };
  Task<Exchange> RoundTrip(Connection& c, const HttpRequest& r) {
    Exchange x;
    auto& lowest = beast::get_lowest_layer(c.stream);
    auto req = MakeRequest(r);
    lowest.expires_at(StepEnd(r, r.timeout.count() > 0 ? r.timeout : options.request_timeout));
    active.insert(&c);
    co_await http::async_write(c.stream, req, redirect_error(use_awaitable, x.ec));
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    if (!x.ec)
      co_await http::async_read(c.stream, c.buffer, parser, redirect_error(use_awaitable, x.ec));
    active.erase(&c);
    x.answered = parser.got_some();
    if (!x.ec) {
      auto& res = parser.get();
      x.response.status = res.result_int();
      x.response.body = std::move(res.body());
      x.keep_alive = res.keep_alive();
    }
    co_return x;
  }

  Task<HttpResponse> Send(HttpRequest r) {
    co_await RateLimit(r);
    co_await AcquireSlot(r);
    struct SlotGuard {
      Impl* impl;
      ~SlotGuard() {
        --impl->in_flight;
        impl->ReleaseSlot();
      }
    } guard{this};
    ++requests;
    peak_in_flight = std::max(peak_in_flight.load(), ++in_flight);
    for (int attempt = 0;; ++attempt) {
      auto c = TakeIdle();
      bool reused = c != nullptr;
      if (!c) c = co_await Connect(r);
      Exchange x = co_await RoundTrip(*c, r);
      if (x.ec) {
        // A reused connection the server had already closed: nothing was processed,
        // so one retry on a fresh connection is safe (creates excepted: be conservative).
        if (reused && !x.answered && attempt == 0 && r.method != "POST" && !closing) continue;
        throw TransportError(x.ec, r.what, config.server);
      }
      if (x.keep_alive && !closing) {
        c->idle_since = Clock::now();
        idle.push_back(std::move(c));
      }
      co_return std::move(x.response);
    }
  }

  void Shutdown() {
    closing = true;
    error_code ignored;
    for (auto& c : idle) beast::get_lowest_layer(c->stream).socket().close(ignored);
    idle.clear();
    for (auto* c : active) beast::get_lowest_layer(c->stream).socket().cancel(ignored);
    for (auto& w : slot_waiters) w->timer.cancel();
    slot_waiters.clear();
  }
};

// --- LineStream -----------------------------------------------------------------------

struct LineStream::Impl {
  Transport::Impl* transport;
  std::unique_ptr<Connection> conn;
  http::response_parser<http::buffer_body> parser;
  std::chrono::milliseconds idle_timeout;
  std::string what;
  std::string pending;  // bytes received but not yet returned as a line
  bool cancelled = false;

  ~Impl() {
    if (conn) {
      transport->active.erase(conn.get());
      error_code ignored;
      beast::get_lowest_layer(conn->stream).socket().close(ignored);
    }
  }
};

LineStream::LineStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LineStream::~LineStream() = default;

void LineStream::Cancel() {
  impl_->cancelled = true;
  error_code ignored;
  beast::get_lowest_layer(impl_->conn->stream).socket().cancel(ignored);
}

Task<std::optional<std::string>> LineStream::NextLine() {
  Impl& s = *impl_;
  char buf[16384];
  for (;;) {
    if (auto nl = s.pending.find('\n'); nl != std::string::npos) {
      std::string line = s.pending.substr(0, nl);
      s.pending.erase(0, nl + 1);
      if (line.empty()) continue;
      co_return line;
    }
    if (s.parser.is_done()) {
      if (s.pending.empty()) co_return std::nullopt;
      co_return std::exchange(s.pending, std::string());
    }
    s.parser.get().body().data = buf;
    s.parser.get().body().size = sizeof buf;
    beast::get_lowest_layer(s.conn->stream).expires_after(s.idle_timeout);
    error_code ec;
    co_await http::async_read_some(s.conn->stream, s.conn->buffer, s.parser,
                                   redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (s.cancelled || s.transport->closing) {
      throw Error(ErrorKind::kCancelled, s.what + ": cancelled");
    }
    if (ec) throw TransportError(ec, s.what, s.transport->config.server);
    s.pending.append(buf, sizeof buf - s.parser.get().body().size);
  }
}

// --- Transport ------------------------------------------------------------------------

Transport::Transport(ClusterConfig config, TransportOptions options)
    : work_(asio::make_work_guard(io_)) {
  impl_ = std::make_unique<Impl>(io_, std::move(config), options);
  thread_ = std::thread([this] {
    io_.run();
    finished_.set_value();
  });
}

void Transport::ThrowShuttingDown() {
  throw Error(ErrorKind::kCancelled, "kube: client is shutting down");
}

Transport::~Transport() { Shutdown(); }

const ClusterConfig& Transport::config() const { return impl_->config; }

Transport::Stats Transport::stats() const {
  return {impl_->requests.load(), impl_->connections_opened.load(), impl_->peak_in_flight.load()};
}

Task<HttpResponse> Transport::Send(HttpRequest request) { return impl_->Send(std::move(request)); }

Task<std::unique_ptr<LineStream>> Transport::OpenStream(HttpRequest r,
                                                        std::chrono::milliseconds idle_timeout) {
  Impl& t = *impl_;
  if (t.closing) throw Error(ErrorKind::kCancelled, r.what + ": client is shutting down");
  auto s = std::make_unique<LineStream::Impl>();
  s->transport = &t;
  s->idle_timeout = idle_timeout;
  s->what = r.what;
  s->conn = co_await t.Connect(r);
  t.active.insert(s->conn.get());
  auto req = t.MakeRequest(r);
  auto& lowest = beast::get_lowest_layer(s->conn->stream);
  lowest.expires_after(t.options.request_timeout);
  error_code ec;
  co_await http::async_write(s->conn->stream, req, redirect_error(use_awaitable, ec));
  s->parser.body_limit(boost::none);
  if (!ec) {
    co_await http::async_read_header(s->conn->stream, s->conn->buffer, s->parser,
                                     redirect_error(use_awaitable, ec));
  }
  if (ec) throw TransportError(ec, r.what, t.config.server);
  int status = s->parser.get().result_int();
  if (status != 200) {
    // Read the (small) error body to report the Status the server sent.
    std::string body;
    char buf[4096];
    while (!s->parser.is_done() && body.size() < (1 << 20)) {
      s->parser.get().body().data = buf;
      s->parser.get().body().size = sizeof buf;
      co_await http::async_read_some(s->conn->stream, s->conn->buffer, s->parser,
                                     redirect_error(use_awaitable, ec));
      if (ec && ec != http::error::need_buffer) break;
      body.append(buf, sizeof buf - s->parser.get().body().size);
    }
    throw ApiErrorFromResponse(status, body, r.what);
  }
  co_return std::make_unique<LineStream>(std::move(s));
}

void Transport::Shutdown() {
  if (!thread_.joinable() || stopping_.exchange(true)) return;
  // Abort everything, then let run() return once the aborted operations have finished.
  // Coroutines that loop (watchers) must have been stopped by their owners first; if
  // something still holds work after a grace period, stop the loop regardless.
  asio::post(io_, [this] {
    impl_->Shutdown();
    work_.reset();
  });
  if (finished_.get_future().wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    io_.stop();
  }
  thread_.join();
}

}  // namespace kube
