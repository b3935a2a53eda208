#include "grpc-gateway/http_server.h"

#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <vector>

namespace iarnet {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

HttpResponse PlainError(int status, const std::string& message) {
  return {status, "text/plain", message + "\n"};
}

bool ClientWentAway(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::operation_aborted || ec == net::error::bad_descriptor;
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(int threads) : pool(std::max(1, threads)) {}
  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io};
  net::thread_pool pool;
};

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), read_deadline_(stream_.get_executor()) {}
  ~Session() { server_.Unregister(this); }

  void Run() { ReadRequest(); }

  // Answers `status` with `message` and closes (the server's own refusals).
  void Refuse(int status, const std::string& message) {
    keep_alive_ = false;
    Write(server_.options_.error_response ? server_.options_.error_response(status, message)
                                          : PlainError(status, message));
  }

  // On the I/O thread. While shutting down: a connection that is waiting for, or still
  // reading, a request is closed; one being answered is left to finish.
  void CloseIfIdle() {
    if (state_ == State::kReading || state_ == State::kClosing) Close();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  enum class State { kReading, kHandling, kWriting, kClosing };

  // Closes after an answer the client may not have waited for (it may still be sending a
  // body over the limit): the send side first, then what still comes is read and dropped
  // for a moment, so that the answer is not lost to a reset.
  // It ends once the client has been silent for kLingerQuiet, or after kLingerMax.
  void LingeringClose() {
    state_ = State::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    linger_until_ = std::chrono::steady_clock::now() + kLingerMax;
    Discard();
  }

  void Discard() {
    auto now = std::chrono::steady_clock::now();
    if (now >= linger_until_) return Close();
    stream_.expires_after(
        std::min<std::chrono::steady_clock::duration>(kLingerQuiet, linger_until_ - now));
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Discard();
                            });
  }

  static constexpr std::chrono::seconds kLingerQuiet{2};
  static constexpr std::chrono::seconds kLingerMax{30};

  void ReadRequest() {
    state_ = State::kReading;
    request_ = {};
    parser_.emplace();
    parser_->body_limit(server_.options_.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_.options_.max_header_bytes));
    // One deadline for the whole request, headers and body: a client that trickles
    // bytes cannot extend it. A timer of our own, not the stream's (which closes the
    // socket when it fires), so that a late request can still be told 408.
    stream_.expires_never();
    timed_out_ = false;
    read_deadline_.expires_after(server_.options_.read_timeout);
    // A timer that fired as the read completed must not cancel what follows it.
    read_deadline_.async_wait([weak = weak_from_this(), read = ++reads_](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->reads_ != read || self->state_ != State::kReading) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    auto& header = parser_->get();
    request_.method = std::string(header.method_string());
    beast::error_code remote_ec;
    auto remote = stream_.socket().remote_endpoint(remote_ec);
    if (!remote_ec) request_.remote_ip = remote.address().to_string();
    request_.target = std::string(header.target());
    if (beast::iequals(header[http::field::expect], "100-continue") && !parser_->is_done()) {
      // curl asks before sending a body over 1 KiB and would otherwise wait a second.
      auto go = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                   header.version());
      http::async_write(stream_, *go, [self = shared_from_this(), go](beast::error_code e, size_t) {
        if (e) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->OnRequest();
                     });
  }

  void OnReadError(const beast::error_code& ec) {
    read_deadline_.cancel();
    const Options& o = server_.options_;
    if (timed_out_) {
      // Nothing came: an idle keep-alive connection, closed quietly.
      if (!parser_->got_some() && buffer_.size() == 0) return Close();
      return Refuse(408, "the request did not arrive within " +
                             std::to_string(o.read_timeout.count()) + " ms");
    }
    if (ClientWentAway(ec) || server_.stopping_) return Close();
    if (ec == http::error::body_limit) {
      return Refuse(
          413, "the request body is larger than " + std::to_string(o.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return Refuse(431, "the request headers are larger than " +
                             std::to_string(o.max_header_bytes) + " bytes");
    }
    Refuse(400, "malformed HTTP request: " + ec.message());
  }

  void OnRequest() {
    read_deadline_.cancel();
    auto& message = parser_->get();
    request_.body = std::move(message.body());
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    state_ = State::kHandling;
    const Options& o = server_.options_;
    if (o.runs_inline && o.runs_inline(request_)) return Write(server_.handler_(request_));
    net::post(server_.impl_->pool, [self = shared_from_this()] {
      HttpResponse r = self->server_.stopping_ ? PlainError(503, "the provider is shutting down")
                                               : self->server_.handler_(self->request_);
      net::post(self->stream_.get_executor(),
                [self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
    });
  }

  void Write(HttpResponse r) {
    state_ = State::kWriting;
    if (server_.options_.on_response) server_.options_.on_response(request_, r.status);
    response_.emplace(static_cast<http::status>(r.status), version_);
    response_->set(http::field::content_type, r.content_type);
    response_->body() = std::move(r.body);
    response_->keep_alive(keep_alive_ && !server_.stopping_);
    response_->prepare_payload();
    stream_.expires_after(server_.options_.write_timeout);
    http::async_write(
        stream_, *response_, [self = shared_from_this()](beast::error_code ec, size_t) {
          bool again = !ec && self->response_->keep_alive() && !self->server_.stopping_;
          self->response_.reset();
          if (again) return self->ReadRequest();
          if (ec || self->server_.stopping_) return self->Close();
          self->LingeringClose();
        });
  }

  HttpServer& server_;
  beast::tcp_stream stream_;
  net::steady_timer read_deadline_;
  bool timed_out_ = false;  // read_deadline_ fired: the pending read was cancelled for it
  uint64_t reads_ = 0;      // requests begun on this connection
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  HttpRequest request_;
  std::array<char, 4096> discard_;
  std::chrono::steady_clock::time_point linger_until_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  State state_ = State::kReading;
};

HttpServer::HttpServer(Options options, Handler handler)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      impl_(std::make_unique<Impl>(options_.handler_threads)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Start() {
  tcp::endpoint endpoint(net::ip::make_address(options_.address),
                         static_cast<unsigned short>(options_.port));
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen(net::socket_base::max_listen_connections);
  bound_port_ = a.local_endpoint().port();
  Accept();
  io_thread_ = std::thread([this] { impl_->io.run(); });
}

void HttpServer::Accept() {
  impl_->acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (stopping_ || ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of file descriptors, say: try again shortly rather than spin.
      impl_->accept_retry.expires_after(std::chrono::milliseconds(50));
      impl_->accept_retry.async_wait([this](beast::error_code e) {
        if (!e && !stopping_) Accept();
      });
      return;
    }
    auto session = std::make_shared<Session>(*this, std::move(socket));
    bool over_cap;
    {
      std::lock_guard<std::mutex> lock(mu_);
      over_cap = sessions_.size() >= options_.max_connections;
    }
    Register(session);
    if (over_cap) {
      session->Refuse(
          503, "too many connections (at most " + std::to_string(options_.max_connections) + ")");
    } else {
      session->Run();
    }
    Accept();
  });
}

void HttpServer::Register(const std::shared_ptr<Session>& s) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_[s.get()] = s;
}

void HttpServer::Unregister(Session* s) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(s);
  if (sessions_.empty()) drained_.notify_all();
}

std::vector<std::shared_ptr<HttpServer::Session>> HttpServer::OpenSessions() {
  std::vector<std::shared_ptr<Session>> open;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [raw, weak] : sessions_) {
    if (auto s = weak.lock()) open.push_back(std::move(s));
  }
  return open;
}

HttpServer::Stats HttpServer::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return {sessions_.size()};
}

void HttpServer::BeginShutdown() {
  if (stopping_.exchange(true) || !io_thread_.joinable()) return;
  net::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->accept_retry.cancel();
    for (auto& s : OpenSessions()) s->CloseIfIdle();
  });
}

void HttpServer::Stop(std::chrono::steady_clock::time_point deadline) {
  if (stopped_) return;
  stopped_ = true;
  BeginShutdown();
  if (!io_thread_.joinable()) return;
  {
    std::unique_lock<std::mutex> lock(mu_);
    drained_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
  }
  // Whatever is still open now is closed: answers not written by the deadline are lost.
  net::post(impl_->io, [this] {
    for (auto& s : OpenSessions()) s->Close();
  });
  // Handlers still running return by their own timeouts; queued ones answer 503 at once.
  impl_->pool.join();
  // The closed connections' operations complete (aborted) and free their sessions; the
  // I/O thread then runs out of work. A moment is enough; stop it regardless after that.
  impl_->work.reset();
  {
    std::unique_lock<std::mutex> lock(mu_);
    drained_.wait_for(lock, std::chrono::seconds(1), [this] { return sessions_.empty(); });
  }
  impl_->io.stop();
  io_thread_.join();
}

}  // namespace iarnet
