#include "broker/runtime/event_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/runtime/log.h"

namespace chronik::runtime {
namespace {

// epoll_event.data.u64 tags: 0 is the wake-up eventfd, listener tags have the
// top bit set (index below), watched fds the next bit (index below),
// everything else is a ConnectionId (counted from 1, never reaching bit 62).
constexpr uint64_t kWakeTag = 0;
constexpr uint64_t kListenerTagBit = uint64_t{1} << 63;
constexpr uint64_t kWatchTagBit = uint64_t{1} << 62;
constexpr int kMaxEventsPerWait = 256;
// TLS: queued parts smaller than this are joined into one SSL_write.
constexpr size_t kTlsCoalesceBytes = 16 << 10;

std::string ErrnoText(int error) { return std::strerror(error); }

}  // namespace

struct EventLoop::Listener {
  ListenerOptions options;
  ConnectionHandler* handler = nullptr;
  int fd = -1;
};

struct EventLoop::Connection {
  ConnectionId id = 0;
  int fd = -1;
  std::string peer;
  std::string listener;  // its name, for logs
  SSL* ssl = nullptr;    // TLS listeners
  bool opened = false;   // the handler saw OnOpen (after the TLS handshake)
  // TLS: a read (or the handshake) waits for the socket to be writable.
  bool tls_wants_write = false;
  std::string tls_principal;
  ConnectionHandler* handler = nullptr;
  int read_chunk_bytes = 0;
  int max_read_bytes_per_event = 0;
  InputBuffer input;
  // Parts to write, in order; the first has `output_offset` bytes written.
  std::deque<SharedBytes> output;
  size_t output_offset = 0;
  uint64_t output_bytes = 0;  // the parts' bytes, the written ones included
  std::string tls_scratch;    // TLS: small parts joined for one SSL_write
  bool reading_paused = false;
  bool close_after_flush = false;
  uint32_t interest = 0;
  uint64_t queued() const { return output_bytes - output_offset; }
  // Takes `n` written bytes off the front.
  void Consume(size_t n) {
    output_offset += n;
    while (!output.empty() && output_offset >= output.front().size()) {
      output_offset -= output.front().size();
      output_bytes -= output.front().size();
      output.pop_front();
    }
  }
};

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    return absl::InternalError("epoll_create1: " + ErrnoText(errno));
  }
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    close(epoll_fd);
    return absl::InternalError("eventfd: " + ErrnoText(errno));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  CHRONIK_CHECK_EQ(epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event), 0);
  return std::unique_ptr<EventLoop>(new EventLoop(epoll_fd, wake_fd));
}

EventLoop::EventLoop(int epoll_fd, int wake_fd)
    : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  for (auto& [id, connection] : connections_) {
    if (connection->ssl != nullptr) SSL_free(connection->ssl);
    close(connection->fd);
  }
  for (auto& listener : listeners_) {
    if (listener != nullptr) close(listener->fd);
  }
  close(wake_fd_);
  close(epoll_fd_);
}

absl::StatusOr<int> EventLoop::Listen(const ListenerOptions& options,
                                      ConnectionHandler* handler) {
  CHRONIK_CHECK(handler != nullptr);
  const std::string where = absl::StrCat(options.name, " listener on ",
                                         options.host, ":", options.port);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  if (options.port < 0 || options.port > 65535 ||
      inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": not an IPv4 address and port"));
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat(where, ": socket: ", ErrnoText(errno)));
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    close(fd);
    if (error == EADDRINUSE) {
      return absl::AlreadyExistsError(
          absl::StrCat(where, ": port ", options.port, " is already in use"));
    }
    return absl::InternalError(
        absl::StrCat(where, ": bind: ", ErrnoText(error)));
  }
  if (listen(fd, 1024) != 0) {
    const int error = errno;
    close(fd);
    return absl::InternalError(
        absl::StrCat(where, ": listen: ", ErrnoText(error)));
  }
  socklen_t length = sizeof(address);
  CHRONIK_CHECK_EQ(
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  auto listener = std::make_unique<Listener>();
  listener->options = options;
  listener->handler = handler;
  listener->fd = fd;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kListenerTagBit | listeners_.size();
  CHRONIK_CHECK_EQ(epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event), 0);
  listeners_.push_back(std::move(listener));
  return static_cast<int>(ntohs(address.sin_port));
}

void EventLoop::Run() {
  epoll_event events[kMaxEventsPerWait];
  while (!stopping_) {
    const int count =
        epoll_wait(epoll_fd_, events, kMaxEventsPerWait, NextTimeoutMs());
    if (count < 0) {
      CHRONIK_CHECK_EQ(errno, EINTR) << "epoll_wait: " << ErrnoText(errno);
      continue;
    }
    const absl::Time began = absl::Now();
    for (int i = 0; i < count; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kWakeTag) {
        uint64_t value;
        while (read(wake_fd_, &value, sizeof(value)) > 0) {
        }
        continue;
      }
      if (tag & kListenerTagBit) {
        const uint64_t index = tag & ~kListenerTagBit;
        // A closed listener's slot is null (CloseListeners earlier in this
        // batch).
        if (listeners_[index] != nullptr) Accept(*listeners_[index]);
        continue;
      }
      if (tag & kWatchTagBit) {
        watched_[tag & ~kWatchTagBit]();
        continue;
      }
      auto it = connections_.find(tag);
      if (it == connections_.end()) continue;  // closed earlier in this batch
      Connection& connection = *it->second;
      if (!connection.opened) {
        ContinueHandshake(connection);
        continue;
      }
      if (connection.tls_wants_write && (events[i].events & EPOLLOUT)) {
        connection.tls_wants_write = false;
        HandleReadable(connection);
        if (connections_.count(tag) == 0) continue;
      }
      if (events[i].events & (EPOLLOUT)) HandleWritable(connection);
      if (connections_.count(tag) == 0) continue;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        HandleReadable(connection);
      }
    }
    RunPosted();
    RunDueTimers();
    CloseExpiredHandshakes();
    closed_.clear();
    CountIteration(absl::Now() - began);
  }
}

void EventLoop::CountIteration(absl::Duration took) {
  const int64_t ms = absl::ToInt64Milliseconds(took);
  ++stats_.iterations;
  if (ms > kSlowIterationMs) ++stats_.slow_iterations;
  stats_.longest_iteration_ms = std::max(stats_.longest_iteration_ms, ms);
}

void EventLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    stop_requested_ = true;
  }
  const uint64_t one = 1;
  CHRONIK_CHECK_EQ(write(wake_fd_, &one, sizeof(one)),
                   static_cast<ssize_t>(sizeof(one)));
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(task));
  }
  const uint64_t one = 1;
  CHRONIK_CHECK_EQ(write(wake_fd_, &one, sizeof(one)),
                   static_cast<ssize_t>(sizeof(one)));
}

void EventLoop::RunEvery(absl::Duration interval, std::function<void()> task) {
  CHRONIK_CHECK(interval > absl::ZeroDuration());
  timers_.push_back(Timer{absl::Now() + interval, interval, std::move(task)});
}

void EventLoop::WatchReadable(int fd, std::function<void()> on_readable) {
  CHRONIK_CHECK(fd >= 0);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWatchTagBit | watched_.size();
  CHRONIK_CHECK_EQ(epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event), 0)
      << ErrnoText(errno);
  watched_.push_back(std::move(on_readable));
}

void EventLoop::CloseListeners() {
  // Slots stay (as null) so the tags of the others keep their index.
  for (auto& listener : listeners_) {
    if (listener == nullptr) continue;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener->fd, nullptr);
    close(listener->fd);
    listener.reset();
  }
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    tasks.swap(posted_);
    if (stop_requested_) stopping_ = true;
  }
  for (auto& task : tasks) task();
}

void EventLoop::RunDueTimers() {
  const absl::Time now = absl::Now();
  for (Timer& timer : timers_) {
    if (timer.due > now) continue;
    stats_.longest_timer_lateness_ms =
        std::max(stats_.longest_timer_lateness_ms,
                 absl::ToInt64Milliseconds(now - timer.due));
    timer.task();
    timer.due = std::max(timer.due + timer.interval, now);
  }
}

int EventLoop::NextTimeoutMs() const {
  if (timers_.empty()) return 1000;
  absl::Time next = timers_.front().due;
  for (const Timer& timer : timers_) next = std::min(next, timer.due);
  const int64_t ms = absl::ToInt64Milliseconds(next - absl::Now());
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1000));
}

void EventLoop::Accept(Listener& listener) {
  while (true) {
    sockaddr_in peer{};
    socklen_t length = sizeof(peer);
    const int fd = accept4(listener.fd, reinterpret_cast<sockaddr*>(&peer),
                           &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error: epoll retries
    if (static_cast<int>(connections_.size()) >=
        listener.options.max_connections) {
      close(fd);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto connection = std::make_unique<Connection>();
    connection->id = next_connection_id_++;
    connection->fd = fd;
    connection->handler = listener.handler;
    connection->read_chunk_bytes = listener.options.read_chunk_bytes;
    connection->max_read_bytes_per_event =
        std::max(listener.options.max_read_bytes_per_event,
                 listener.options.read_chunk_bytes);
    char host[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &peer.sin_addr, host, sizeof(host));
    connection->peer = absl::StrCat(host, ":", ntohs(peer.sin_port));
    connection->listener = listener.options.name;
    if (listener.options.tls != nullptr) {
      connection->ssl = listener.options.tls->NewSession(fd);
      if (connection->ssl == nullptr) {
        LogWarn(absl::StrCat("TLS session for ", connection->peer, " on the ",
                             listener.options.name,
                             " listener: ", TlsErrors()));
        close(fd);
        continue;
      }
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = connection->id;
    connection->interest = EPOLLIN;
    CHRONIK_CHECK_EQ(epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event), 0);
    Connection& ref = *connection;
    connections_.emplace(ref.id, std::move(connection));
    if (ref.ssl != nullptr) {
      // Opened once the handshake finished (the client speaks first).
      handshakes_[ref.id] =
          absl::Now() +
          absl::Milliseconds(listener.options.tls_handshake_timeout_ms);
      continue;
    }
    ref.opened = true;
    ref.handler->OnOpen(ref.id, ref.peer);
  }
}

size_t EventLoop::SpareInput(const Connection& connection) {
  return connection.input.spare_bytes();
}

ssize_t EventLoop::ReadInto(Connection& connection, char* bounce, size_t chunk,
                            size_t* asked) {
  InputBuffer& input = connection.input;
  const size_t spare = input.spare_bytes();
  if (spare < kMinDirectReadBytes) {
    *asked = chunk;
    const ssize_t n = ReadSome(connection, bounce, chunk);
    if (n > 0) input.Append(std::string_view(bounce, static_cast<size_t>(n)));
    return n;
  }
  // The handler reserved room for a large frame: read into it directly
  // (the room is not initialized first).
  const size_t room = std::min(spare, chunk);
  *asked = room;
  const ssize_t n = ReadSome(connection, input.spare_data(), room);
  if (n > 0) {
    input.Commit(static_cast<size_t>(n));
    direct_read_bytes_ += static_cast<uint64_t>(n);
  }
  return n;
}

void EventLoop::HandleReadable(Connection& connection) {
  const ConnectionId id = connection.id;
  if (connection.reading_paused) return;
  char buffer[64 << 10];
  const size_t chunk =
      std::min<size_t>(sizeof(buffer), connection.read_chunk_bytes);
  size_t received = 0;
  size_t undelivered = 0;
  bool closed = false;
  // TLS: also what OpenSSL already decrypted (epoll cannot see it).
  while (received < static_cast<size_t>(connection.max_read_bytes_per_event) ||
         (connection.ssl != nullptr && SSL_pending(connection.ssl) > 0)) {
    const bool had_room = SpareInput(connection) >= kMinDirectReadBytes;
    size_t asked = 0;
    const ssize_t n = ReadInto(connection, buffer, chunk, &asked);
    if (n == 0 || n == -2) {
      closed = true;
      break;
    }
    if (n < 0) break;  // drained (or interrupted: epoll reports it again)
    received += static_cast<size_t>(n);
    undelivered += static_cast<size_t>(n);
    // Short read: drained (a TLS read returns one record at most: go on).
    const bool drained =
        connection.ssl == nullptr && static_cast<size_t>(n) < asked;
    if (had_room && SpareInput(connection) < kMinDirectReadBytes) {
      // The room the handler reserved for a frame is used up: it takes the
      // frame now and reserves the next, before more bytes would grow the
      // buffer by copying.
      undelivered = 0;
      connection.handler->OnInput(id, &connection.input);
      if (connections_.count(id) == 0) return;  // closed by the handler
    }
    if (drained) break;
  }
  // Bytes that arrived before an EOF are still delivered (a client may send
  // a request and shut down its side).
  if (undelivered > 0) connection.handler->OnInput(id, &connection.input);
  if (closed && connections_.count(id) > 0) Destroy(id);
}

void EventLoop::HandleWritable(Connection& connection) {
  while (connection.queued() > 0) {
    const ssize_t n = WriteSome(connection);
    if (n == -1) break;
    if (n < 0) {
      Destroy(connection.id);
      return;
    }
    connection.Consume(static_cast<size_t>(n));
  }
  if (connection.queued() == 0) {
    CHRONIK_CHECK(connection.output.empty());
    if (connection.close_after_flush) {
      Destroy(connection.id);
      return;
    }
    UpdateInterest(connection);
    connection.handler->OnDrained(connection.id);
    return;
  }
  UpdateInterest(connection);
}

void EventLoop::UpdateInterest(Connection& connection) {
  uint32_t interest = 0;
  if (!connection.reading_paused) interest |= EPOLLIN;
  if (connection.queued() > 0 || connection.tls_wants_write) {
    interest |= EPOLLOUT;
  }
  if (!connection.opened) interest |= EPOLLIN;  // the TLS handshake
  if (interest == connection.interest) return;
  epoll_event event{};
  event.events = interest;
  event.data.u64 = connection.id;
  CHRONIK_CHECK_EQ(epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event),
                   0);
  connection.interest = interest;
}

void EventLoop::Send(ConnectionId id, ByteChain bytes) {
  auto it = connections_.find(id);
  if (it == connections_.end() || bytes.empty()) return;
  Connection& connection = *it->second;
  const bool was_idle = connection.queued() == 0;
  for (const SharedBytes& part : bytes.parts()) {
    connection.output_bytes += part.size();
    connection.output.push_back(part);
  }
  if (was_idle) HandleWritable(connection);  // try to write at once
}

void EventLoop::CloseAfterFlush(ConnectionId id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  if (it->second->queued() == 0) {
    Destroy(id);
    return;
  }
  it->second->close_after_flush = true;
  PauseReading(id);
}

void EventLoop::Close(ConnectionId id) {
  if (connections_.count(id) > 0) Destroy(id);
}

void EventLoop::PauseReading(ConnectionId id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  it->second->reading_paused = true;
  UpdateInterest(*it->second);
}

void EventLoop::ResumeReading(ConnectionId id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second->close_after_flush) return;
  it->second->reading_paused = false;
  UpdateInterest(*it->second);
  // TLS: bytes OpenSSL decrypted before the pause (epoll cannot see them).
  if (it->second->ssl != nullptr && SSL_pending(it->second->ssl) > 0) {
    HandleReadable(*it->second);
    return;
  }
  // Bytes may already wait in the buffer from before the pause.
  if (!it->second->input.empty()) {
    it->second->handler->OnInput(id, &it->second->input);
  }
}

uint64_t EventLoop::QueuedOutputBytes(ConnectionId id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? 0 : it->second->queued();
}

void EventLoop::Destroy(ConnectionId id) {
  auto it = connections_.find(id);
  CHRONIK_CHECK(it != connections_.end());
  std::unique_ptr<Connection> connection = std::move(it->second);
  connections_.erase(it);
  handshakes_.erase(id);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection->fd, nullptr);
  if (connection->ssl != nullptr) {
    // Best effort close_notify (never waits); then the session goes.
    if (connection->opened) SSL_shutdown(connection->ssl);
    SSL_free(connection->ssl);
    connection->ssl = nullptr;
  }
  close(connection->fd);
  connection->fd = -1;
  ConnectionHandler* handler = connection->handler;
  const bool opened = connection->opened;
  // A handler may close its connection from inside OnInput, while the loop
  // still holds `input`: free the buffers only after the current event batch.
  closed_.push_back(std::move(connection));
  if (opened) handler->OnClose(id);
}

std::string EventLoop::TlsPrincipalOf(ConnectionId id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? "" : it->second->tls_principal;
}

void EventLoop::ContinueHandshake(Connection& connection) {
  ERR_clear_error();
  const int result = SSL_accept(connection.ssl);
  if (result == 1) {
    handshakes_.erase(connection.id);
    connection.opened = true;
    connection.tls_wants_write = false;
    connection.tls_principal = TlsPrincipal(connection.ssl);
    if (LogEnabled(config::LogLevel::kDebug)) {
      LogDebug(absl::StrCat("TLS ", SSL_get_version(connection.ssl), " ",
                            SSL_get_cipher_name(connection.ssl), " with ",
                            connection.peer, " on the ", connection.listener,
                            " listener"));
    }
    UpdateInterest(connection);
    const ConnectionId id = connection.id;
    connection.handler->OnOpen(id, connection.peer);
    // Application data may have come with the handshake's last flight.
    if (connections_.count(id) > 0) HandleReadable(connection);
    return;
  }
  const int error = SSL_get_error(connection.ssl, result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    connection.tls_wants_write = error == SSL_ERROR_WANT_WRITE;
    UpdateInterest(connection);
    return;
  }
  const long verify = SSL_get_verify_result(connection.ssl);
  LogInfo(absl::StrCat(
      "TLS handshake with ", connection.peer, " on the ", connection.listener,
      " listener failed: ",
      error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN
          ? std::string("the client closed the connection")
          : TlsErrors(),
      verify != X509_V_OK
          ? absl::StrCat(" (client certificate: ",
                         X509_verify_cert_error_string(verify), ")")
          : std::string()));
  ERR_clear_error();
  Destroy(connection.id);
}

void EventLoop::CloseExpiredHandshakes() {
  if (handshakes_.empty()) return;
  const absl::Time now = absl::Now();
  std::vector<ConnectionId> expired;
  for (const auto& [id, deadline] : handshakes_) {
    if (deadline <= now) expired.push_back(id);
  }
  for (ConnectionId id : expired) {
    const Connection& connection = *connections_.at(id);
    LogInfo(absl::StrCat("TLS handshake with ", connection.peer, " on the ",
                         connection.listener,
                         " listener timed out: closing it"));
    Destroy(id);
  }
}

ssize_t EventLoop::ReadSome(Connection& connection, char* buffer, size_t size) {
  if (connection.ssl == nullptr) {
    const ssize_t n = read(connection.fd, buffer, size);
    if (n < 0) return errno == EAGAIN || errno == EINTR ? -1 : -2;
    return n;
  }
  ERR_clear_error();
  const int n = SSL_read(connection.ssl, buffer, static_cast<int>(size));
  if (n > 0) return n;
  switch (SSL_get_error(connection.ssl, n)) {
    case SSL_ERROR_WANT_READ:
      return -1;
    case SSL_ERROR_WANT_WRITE:  // e.g. a TLS 1.3 key update to answer
      connection.tls_wants_write = true;
      UpdateInterest(connection);
      return -1;
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      return 0;
    default:
      ERR_clear_error();
      return -2;
  }
}

ssize_t EventLoop::WriteSome(Connection& connection) {
  CHRONIK_CHECK(!connection.output.empty());
  const SharedBytes& front = connection.output.front();
  const char* data = front.data() + connection.output_offset;
  size_t size = front.size() - connection.output_offset;
  if (connection.ssl == nullptr) {
    iovec iov[kMaxIovecsPerWrite];
    int count = 0;
    iov[count++] = iovec{const_cast<char*>(data), size};
    for (auto it = connection.output.begin() + 1;
         it != connection.output.end() && count < kMaxIovecsPerWrite; ++it) {
      iov[count++] = iovec{const_cast<char*>(it->data()), it->size()};
    }
    const ssize_t n = writev(connection.fd, iov, count);
    if (n < 0) return errno == EAGAIN || errno == EINTR ? -1 : -2;
    return n;
  }
  if (size < kTlsCoalesceBytes && connection.output.size() > 1) {
    // Small parts (pipelined small responses) go out as one TLS record, as
    // from one buffer. The queue only grows at its back, so a retry after
    // WANT_WRITE passes the same bytes again (or more).
    std::string& scratch = connection.tls_scratch;
    scratch.assign(data, size);
    for (auto it = connection.output.begin() + 1;
         it != connection.output.end() && scratch.size() < kTlsCoalesceBytes;
         ++it) {
      scratch.append(it->data(),
                     std::min(it->size(), kTlsCoalesceBytes - scratch.size()));
    }
    data = scratch.data();
    size = scratch.size();
  }
  ERR_clear_error();
  const int n = SSL_write(connection.ssl, data,
                          static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return n;
  const int error = SSL_get_error(connection.ssl, n);
  if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) return -1;
  ERR_clear_error();
  return -2;
}

}  // namespace chronik::runtime
