// TestDriver (tests only): drives one Broker the way the production driver
// does, in memory and deterministically. Inputs are handed to the broker, then
// Settle() runs steps (Process) until the broker has no more work, carrying
// out each step's outputs after the step returns: responses are queued per
// connection, closes and pauses recorded, a resumed connection gets its
// buffered input again, peer messages collected for the caller to deliver.
// Storage fsyncs run inline (env::FsyncMode::kInline) on the given disk, or,
// with `async_fsync`, come out of a step as a SyncRequest that Settle() syncs
// and reports back (OnSyncDone) before the next step, as an IO thread would.
#ifndef CHRONIK_BROKER_SERVER_TESTING_TEST_DRIVER_H_
#define CHRONIK_BROKER_SERVER_TESTING_TEST_DRIVER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/input_buffer.h"
#include "broker/env/env.h"
#include "broker/server/broker.h"

namespace chronik::broker::testing {

// The tail log size tests give their brokers (storage/tail_wal.h): small, so
// that it costs little in the simulated disk's memory and checkpoints often.
inline constexpr uint64_t kTestTailWalBytes = 256 << 10;

class FakeClock : public env::Clock {
 public:
  int64_t NowMs() override { return now_ms; }
  int64_t now_ms = 1'700'000'000'000;
};

// Keeps every log line (tests may look for one).
class CapturedLog : public env::LogSink {
 public:
  bool Enabled(env::LogLevel) const override { return true; }
  void Log(env::LogLevel level, absl::string_view line) override {
    lines.push_back(absl::StrCat(env::LogLevelName(level), " ", line));
  }
  std::vector<std::string> lines;
};

class TestDriver {
 public:
  struct Connection {
    InputBuffer input;  // delivered, not yet consumed by the broker
    bool paused = false;
    bool closed = false;
    std::deque<std::string> responses;
  };
  // Bound on steps of one Settle (a broker that always has work is a bug).
  static constexpr int kMaxStepsPerSettle = 1000;

  TestDriver(const BrokerOptions& options, env::Disk* disk, env::Clock* clock,
             uint64_t seed, bool async_fsync = false) {
    env::Environment env;
    env.clock = clock;
    env.disk = disk;
    env.log = &log_;
    env.seed = seed;
    env.fsync_mode =
        async_fsync ? env::FsyncMode::kAsync : env::FsyncMode::kInline;
    broker_ = std::make_unique<Broker>(options, env);
  }

  absl::Status Start() {
    absl::Status started = broker_->Start();
    if (started.ok()) Settle();
    return started;
  }
  Broker& broker() { return *broker_; }
  CapturedLog& log() { return log_; }

  void Open(
      ConnectionId id, const std::string& peer,
      env::SecurityProtocol protocol = env::SecurityProtocol::kPlaintext) {
    Open(id, env::ConnectionInfo{.peer = peer, .protocol = protocol});
  }
  void Open(ConnectionId id, const env::ConnectionInfo& info) {
    connections_[id] = Connection{};
    broker_->OnConnectionOpen(id, info);
  }
  // Bytes arrive on `id` (delivered now unless the broker paused reading).
  void Write(ConnectionId id, const std::string& bytes) {
    Connection& connection = connections_.at(id);
    CHRONIK_CHECK(!connection.closed);
    connection.input.Append(bytes);
    if (!connection.paused) broker_->OnConnectionInput(id, &connection.input);
  }
  Connection& connection(ConnectionId id) { return connections_.at(id); }
  std::vector<ConnectionId> closed() const {
    std::vector<ConnectionId> ids;
    for (const auto& [id, c] : connections_) {
      if (c.closed) ids.push_back(id);
    }
    return ids;
  }

  // One step, its outputs carried out (a sync request is kept for
  // CompleteSync()).
  void Step() {
    env::StepOutput out = broker_->Process();
    ++steps_;
    if (out.sync.has_value()) sync_.push_back(std::move(*out.sync));
    std::vector<ConnectionId> resumed;
    for (env::ConnectionAction& action : out.connections) {
      Connection& c = connections_.at(action.connection);
      switch (action.kind) {
        case env::ConnectionAction::Kind::kSend:
          c.responses.push_back(action.bytes.Flatten());
          break;
        case env::ConnectionAction::Kind::kClose:
          c.closed = true;
          break;
        case env::ConnectionAction::Kind::kPauseReading:
          c.paused = true;
          break;
        case env::ConnectionAction::Kind::kResumeReading:
          c.paused = false;
          resumed.push_back(action.connection);
          break;
      }
    }
    for (env::PeerMessage& message : out.peer_messages) {
      peer_messages_.push_back(std::move(message));
    }
    // Like the event loop: buffered input is delivered after the step.
    for (ConnectionId id : resumed) {
      Connection& c = connections_.at(id);
      if (!c.paused && !c.closed && !c.input.empty()) {
        broker_->OnConnectionInput(id, &c.input);
        pending_input_ = true;
      }
    }
  }

  // Async mode: fsyncs the files of the oldest flush in flight and reports
  // them.
  bool CompleteSync() {
    if (sync_.empty()) return false;
    std::vector<absl::Status> results;
    for (env::File* file : sync_.front().files) {
      results.push_back(file->Sync());
    }
    const uint64_t flush_id = sync_.front().flush_id;
    sync_.pop_front();
    broker_->OnSyncDone(flush_id, std::move(results));
    return true;
  }
  // Oldest first.
  const std::deque<env::SyncRequest>& syncs_in_flight() const { return sync_; }

  // Steps (completing fsyncs in between) until the broker has nothing left
  // to do; returns the steps run.
  int Settle() {
    int steps = 0;
    bool more = true;
    while (more) {
      pending_input_ = false;
      Step();
      CHRONIK_CHECK_LT(++steps, kMaxStepsPerSettle) << "broker never settles";
      const bool synced = CompleteSync();
      more = synced || broker_->HasWork() || pending_input_;
    }
    return steps;
  }

  std::vector<env::PeerMessage> TakePeerMessages() {
    std::vector<env::PeerMessage> messages;
    messages.swap(peer_messages_);
    return messages;
  }
  uint64_t steps() const { return steps_; }

 private:
  CapturedLog log_;
  std::unique_ptr<Broker> broker_;
  std::map<ConnectionId, Connection> connections_;
  std::vector<env::PeerMessage> peer_messages_;
  bool pending_input_ = false;
  std::deque<env::SyncRequest> sync_;
  uint64_t steps_ = 0;
};

}  // namespace chronik::broker::testing

#endif  // CHRONIK_BROKER_SERVER_TESTING_TEST_DRIVER_H_
