// The environment of one broker node: everything deterministic broker code
// touches outside its own memory, in one place.
//
// What it is for: the broker (broker/server/) is a step function in the shape
// of raft::RawNode. A driver feeds it inputs (connection bytes, peer messages,
// ticks, fsync completions), calls Process(), and carries out the StepOutput it
// returns (bytes to send, connections to close or pause, Raft messages to
// peers, files to fsync). What the broker must ASK of the world while it runs
// is here too: the time (Clock), the disk (Disk, disk.h), where log lines go
// (LogSink), the seed of its randomness, and how storage fsyncs are scheduled.
// Two drivers implement it: production (broker/runtime/: real clock, POSIX
// files, an IO thread for fsyncs, stderr) and the simulator (sim/: per-node
// simulated clocks, SimDisk, fsync completions after a simulated latency, the
// trace).
//
// Ownership: the driver owns every object an Environment points to; they
// outlive the node. Threading: the node calls them from the driver's one
// thread; the driver never calls the node from inside one of these calls.
#ifndef CHRONIK_BROKER_ENV_ENV_H_
#define CHRONIK_BROKER_ENV_ENV_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/byte_chain.h"
#include "broker/env/disk.h"
#include "raft/types.h"

namespace chronik::env {

// A Kafka client connection, numbered by the driver (unique per node run).
using ConnectionId = uint64_t;

// Wall-clock milliseconds since the Unix epoch (record timestamps, commit
// times, request deadlines). Simulated clocks may drift and jump.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() = 0;
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };
const char* LogLevelName(LogLevel level);

// Where the node's log lines go: stderr in production, the trace in the
// simulator. A line is one event, without a trailing newline.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual bool Enabled(LogLevel level) const = 0;
  virtual void Log(LogLevel level, absl::string_view line) = 0;
};

// How a storage flush's fsyncs run.
enum class FsyncMode {
  // Process() fsyncs before it returns (tests, tools): `sync_files` when set
  // (e.g. concurrently), else one file after another.
  kInline,
  // Process() never waits: a started flush's files come out in
  // StepOutput::sync; the driver fsyncs them elsewhere and reports
  // OnSyncDone(flush_id, statuses) as an input (production's IO thread, the
  // simulator's delayed completions). A flush may start while earlier ones
  // sync: the driver syncs the requests in the order they came out and
  // reports them in that order.
  kAsync,
};

using SyncFiles =
    std::function<std::vector<absl::Status>(absl::Span<File* const> files)>;

// Files one started flush needs fsynced before it counts as durable; the
// driver answers OnSyncDone(flush_id, one status per file in this order).
// The files stay open until then (deleting a group waits for it).
struct SyncRequest {
  uint64_t flush_id = 0;
  std::vector<File*> files;
};

struct Environment {
  Clock* clock = nullptr;
  Disk* disk = nullptr;  // the node's data directory
  LogSink* log = nullptr;
  // Every random choice of the node derives from it. A restarted node must get
  // a different seed than its earlier incarnations (production: time-derived;
  // the simulator: a stream per incarnation): some choices tell this
  // incarnation's requests apart from ones replayed from the log.
  uint64_t seed = 1;
  FsyncMode fsync_mode = FsyncMode::kInline;
  SyncFiles sync_files;  // kInline only; empty: sequential
};

// A Raft message for a peer node, with the group it belongs to.
struct PeerMessage {
  uint64_t group_id = 0;
  raft::Message message;
};

// The transport a client connection came in over, named as Kafka's
// `security.protocol` names it: whether the listener wraps the bytes in TLS
// and whether the client must authenticate with SASL before other requests.
enum class SecurityProtocol { kPlaintext, kSsl, kSaslPlaintext, kSaslSsl };

// What the driver knows of a client connection when it opens: the client's
// address, the named listener it came in on (Metadata advertises that
// listener's address to it) and what the listener's transport established.
struct ConnectionInfo {
  std::string peer;                    // the client's "host:port"
  std::string listener = "PLAINTEXT";  // the listener's name
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  // Mutual TLS: the principal taken from the client certificate's subject;
  // empty when the transport did not verify a client certificate.
  std::string tls_principal = {};
};

// What the driver does to a connection, in order.
struct ConnectionAction {
  enum class Kind {
    kSend,           // write `bytes`
    kClose,          // close once what was sent before is written
    kPauseReading,   // stop delivering input (backpressure)
    kResumeReading,  // deliver input again (including what is buffered)
  };
  ConnectionId connection = 0;
  Kind kind = Kind::kSend;
  // kSend: a frame as parts (a Fetch response's stored batches are parts
  // shared with storage's read buffer); drivers write them in order.
  ByteChain bytes = {};
};

// Everything one step asks of the driver. Connection actions and peer
// messages are in the order the node produced them.
// Where a peer's Raft listener is ("host:port"), as its registration in the
// metadata says: a broker that joined after this node started is in no
// cluster file this node read. Drivers that route by address update theirs.
struct PeerAddress {
  uint64_t node_id = 0;  // Raft node id
  std::string address;
};

struct StepOutput {
  std::vector<ConnectionAction> connections;
  std::vector<PeerMessage> peer_messages;
  std::optional<SyncRequest> sync;          // FsyncMode::kAsync
  std::vector<PeerAddress> peer_addresses;  // new or changed ones

  bool empty() const {
    return connections.empty() && peer_messages.empty() && !sync.has_value() &&
           peer_addresses.empty();
  }
};

}  // namespace chronik::env

#endif  // CHRONIK_BROKER_ENV_ENV_H_
