// EventLoop: the production driver's network thread. One epoll loop owns TCP
// listeners and connections, runs posted tasks and periodic timers.
//
// Contract:
// - Run() executes on one thread (the loop thread) until Stop(). Every handler
//   callback, posted task and timer runs on that thread, one at a time.
// - Post() and Stop() are thread-safe; every other method must be called on
//   the loop thread (before Run(), or from a callback).
// - Listen() binds and listens immediately, so a taken port is reported before
//   anything else starts: the error names the listener and the port.
// - Input is handed to the connection's handler as raw bytes accumulated in a
//   per-connection buffer; the handler consumes what it can (framing is the
//   handler's business) and may pause reading for backpressure.
// - Output is queued per connection without limit here; handlers check
//   QueuedOutputBytes() and pause reading when a client does not read its
//   responses (that bounds memory per connection). Queued output is the sent
//   chains' parts, shared, not copied: a plaintext connection writes them
//   with writev (up to kMaxIovecsPerWrite parts a call, resuming inside a
//   part after a short write); a TLS connection hands them to SSL_write one
//   part at a time (the encryption is the copy).
// - TLS listeners (ListenerOptions::tls): each accepted socket first runs a
//   non-blocking TLS handshake; the handler sees the connection (OnOpen) only
//   once it finished, and then only plaintext bytes. A handshake that fails
//   (a plaintext client, an unknown or expired client certificate) or does
//   not finish within tls_handshake_timeout_ms is logged and the socket
//   closed; the handler never hears of it.
// Ownership: the loop owns sockets; handlers and TLS contexts are borrowed
// and must outlive it.
#ifndef CHRONIK_BROKER_RUNTIME_EVENT_LOOP_H_
#define CHRONIK_BROKER_RUNTIME_EVENT_LOOP_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/byte_chain.h"
#include "base/input_buffer.h"
#include "broker/runtime/tls.h"

namespace chronik::runtime {

using ConnectionId = uint64_t;

// Socket bytes go straight into a connection's input buffer when its
// handler left at least this much spare capacity (it reserves a large
// frame's size); smaller reads go through a bounce buffer on the stack.
inline constexpr size_t kMinDirectReadBytes = 16 << 10;

class EventLoop;

// Receives connection events for one listener. Called on the loop thread.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual void OnOpen(ConnectionId id, const std::string& peer) = 0;
  // `input` holds every unconsumed byte received so far; consume what you
  // take (Consume, or Take the whole buffer). Bytes left stay for the next
  // call. Spare capacity the handler reserves is where the next bytes are
  // read into directly (when at least kMinDirectReadBytes).
  virtual void OnInput(ConnectionId id, InputBuffer* input) = 0;
  // The queued output of `id` was fully written to the socket.
  virtual void OnDrained(ConnectionId /*id*/) {}
  virtual void OnClose(ConnectionId id) = 0;
};

struct ListenerOptions {
  std::string name;  // for errors and logs, e.g. "kafka" or "http"
  std::string host = "127.0.0.1";
  int port = 0;                  // 0 = any free port
  int max_connections = 10'000;  // further accepts are closed at once
  int read_chunk_bytes = 64 << 10;
  // Per readiness event, read until the socket is drained or this many bytes
  // arrived, then hand them to the handler at once: pipelined requests that
  // arrived together are seen together (and share one group commit).
  int max_read_bytes_per_event = 1 << 20;
  // Wrap connections in TLS (nullptr: plaintext).
  TlsContext* tls = nullptr;
  int64_t tls_handshake_timeout_ms = 10'000;
};

class EventLoop {
 public:
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Binds host:port; returns the bound port. Errors name the listener and port.
  absl::StatusOr<int> Listen(const ListenerOptions& options,
                             ConnectionHandler* handler);

  void Run();
  void Stop();                            // thread-safe
  void Post(std::function<void()> task);  // thread-safe
  // Runs `task` every `interval` on the loop thread, first after `interval`.
  void RunEvery(absl::Duration interval, std::function<void()> task);
  // Calls `on_readable` on the loop thread whenever `fd` is readable (e.g. a
  // signalfd). The caller owns `fd`, drains it in the callback, and keeps it
  // open while the loop runs. Loop-thread only.
  void WatchReadable(int fd, std::function<void()> on_readable);
  // Closes every listener: no new connections (shutdown). Open connections
  // stay. Loop-thread only.
  void CloseListeners();

  // Parts one writev takes at most.
  static constexpr int kMaxIovecsPerWrite = 64;

  // Loop-thread only. Unknown (already closed) ids are ignored.
  void Send(ConnectionId id, ByteChain bytes);
  void CloseAfterFlush(ConnectionId id);  // close once queued output is sent
  void Close(ConnectionId id);
  void PauseReading(ConnectionId id);
  void ResumeReading(ConnectionId id);
  uint64_t QueuedOutputBytes(ConnectionId id) const;
  // The mutual-TLS principal of a connection (TlsPrincipal), "" if none.
  std::string TlsPrincipalOf(ConnectionId id) const;
  size_t connection_count() const { return connections_.size(); }
  // Bytes read straight into connection input buffers (no bounce copy).
  // Loop-thread only (or after Run returned).
  uint64_t direct_read_bytes() const { return direct_read_bytes_; }

  // How long the loop thread stays away from epoll_wait. Every timer (the
  // node's tick, and so each Raft heartbeat and election timer) waits for the
  // iteration in progress, so a long iteration or a descheduled process shows
  // here before it shows as elections on the peers.
  static constexpr int64_t kSlowIterationMs = 100;
  struct Stats {
    uint64_t iterations = 0;
    uint64_t slow_iterations = 0;  // longer than kSlowIterationMs (wall time)
    int64_t longest_iteration_ms = 0;
    int64_t longest_timer_lateness_ms = 0;  // run past its due time
  };
  // Loop-thread only (or after Run returned).
  const Stats& stats() const { return stats_; }

 private:
  struct Listener;
  struct Connection;
  struct Timer {
    absl::Time due;
    absl::Duration interval;
    std::function<void()> task;
  };

  EventLoop(int epoll_fd, int wake_fd);
  void Accept(Listener& listener);
  void HandleReadable(Connection& connection);
  // TLS: one more step of the handshake; opens the connection once done.
  void ContinueHandshake(Connection& connection);
  void CloseExpiredHandshakes();
  // Reads or writes through TLS when the connection has it: > 0 bytes,
  // 0 at the end of the stream, -1 to wait for readiness, -2 an error.
  ssize_t ReadSome(Connection& connection, char* buffer, size_t size);
  // ReadSome into the connection's input: straight into its spare capacity
  // when at least kMinDirectReadBytes are free, else through `bounce`.
  static size_t SpareInput(const Connection& connection);
  // `*asked` is how many bytes were asked for (a short read means drained).
  ssize_t ReadInto(Connection& connection, char* bounce, size_t chunk,
                   size_t* asked);
  // Writes from the front of the queued output (writev in plaintext, one
  // part through TLS): > 0 bytes, -1 to wait for readiness, -2 an error.
  ssize_t WriteSome(Connection& connection);
  void HandleWritable(Connection& connection);
  void UpdateInterest(Connection& connection);
  void Destroy(ConnectionId id);
  void RunPosted();
  void RunDueTimers();
  void CountIteration(absl::Duration took);
  int NextTimeoutMs() const;

  const int epoll_fd_;
  const int wake_fd_;
  bool stopping_ = false;
  ConnectionId next_connection_id_ = 1;
  uint64_t direct_read_bytes_ = 0;
  Stats stats_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::map<ConnectionId, std::unique_ptr<Connection>> connections_;
  std::map<ConnectionId, absl::Time> handshakes_;    // TLS, until its deadline
  std::vector<std::unique_ptr<Connection>> closed_;  // freed after each batch
  std::vector<Timer> timers_;
  std::vector<std::function<void()>> watched_;  // index = tag & ~kWatchTagBit
  // std::mutex, not absl::Mutex: Debian's Abseil is not built for TSan, which
  // then cannot see absl::Mutex's happens-before edges.
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_ ABSL_GUARDED_BY(posted_mu_);
  bool stop_requested_ ABSL_GUARDED_BY(posted_mu_) = false;
};

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_EVENT_LOOP_H_
