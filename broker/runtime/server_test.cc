// Server with a fake node: real sockets, the HTTP endpoints, the node's step
// outputs (sends, closes, pauses and resumes), Process after input, taken
// ports, the data-dir lock and shutdown.
#include "broker/runtime/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Line protocol: each "x\n" is answered "echo:x\n" by the next Process();
// "close\n" asks for the connection to be closed; "pause\n" pauses reading
// and the next Process resumes it (the server then delivers what it buffered).
// Outputs only ever leave through Process(), as the broker's do.
class FakeNode final : public Node {
 public:
  explicit FakeNode(const NodeEnvironment&) {}
  absl::Status Start() override {
    started = true;
    return absl::OkStatus();
  }
  void OnConnectionOpen(env::ConnectionId,
                        const env::ConnectionInfo&) override {
    ++opened;
  }
  void OnConnectionInput(env::ConnectionId id, InputBuffer* input) override {
    size_t end;
    while ((end = input->view().find('\n')) != std::string::npos) {
      const std::string line(input->view().substr(0, end));
      input->Consume(end + 1);
      if (line == "close") {
        pending_.connections.push_back(
            {id, env::ConnectionAction::Kind::kClose, ""});
        return;
      }
      if (line == "pause") {
        pending_.connections.push_back(
            {id, env::ConnectionAction::Kind::kPauseReading, ""});
        resume_.push_back(id);
        return;
      }
      replies_.emplace_back(id, "echo:" + line + "\n");
    }
  }
  void OnConnectionClose(env::ConnectionId) override { ++closed; }
  void Tick() override {
    ++ticks;
    if (shutdown_begun) ++ticks_since_shutdown;
  }
  void BeginShutdown() override { shutdown_begun = true; }
  bool ShutdownComplete() const override {
    return shutdown_begun && ticks_since_shutdown >= shutdown_ticks;
  }
  broker::ClusterStatus ClusterStatus() const override {
    broker::ClusterStatus status;
    status.node_id = 4;
    status.partitions.push_back({"a\"b", 0, 4, 1, {4}, {4}, std::nullopt});
    return status;
  }
  env::StepOutput Process() override {
    ++processed;
    env::StepOutput out = std::move(pending_);
    pending_ = env::StepOutput{};
    for (auto& [id, reply] : replies_) {
      out.connections.push_back(
          {id, env::ConnectionAction::Kind::kSend, reply});
    }
    replies_.clear();
    for (env::ConnectionId id : resume_) {
      out.connections.push_back(
          {id, env::ConnectionAction::Kind::kResumeReading, ""});
    }
    resume_.clear();
    return out;
  }
  bool IsReady() const override { return ready.load(); }
  absl::Status StorageFailure() const override { return storage_failure; }
  broker::BrokerMetrics Metrics() const override {
    broker::BrokerMetrics metrics;
    metrics.partitions = 7;
    return metrics;
  }

  std::atomic<bool> ready{false};
  bool started = false;
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::atomic<int> processed{0};
  std::atomic<int> ticks{0};
  absl::Status storage_failure;
  // The controlled shutdown completes this many ticks after it began.
  std::atomic<int> shutdown_ticks{0};
  std::atomic<bool> shutdown_begun{false};
  std::atomic<int> ticks_since_shutdown{0};

 private:
  env::StepOutput pending_;
  std::vector<std::pair<env::ConnectionId, std::string>> replies_;
  std::vector<env::ConnectionId> resume_;
};

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string ReadAll(int fd, size_t limit = 1 << 20) {
  std::string result;
  char buffer[4096];
  while (result.size() < limit) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    result.append(buffer, static_cast<size_t>(n));
  }
  return result;
}

std::string ReadExactly(int fd, size_t size) {
  std::string result;
  char buffer[4096];
  while (result.size() < size) {
    const ssize_t n =
        read(fd, buffer, std::min(sizeof(buffer), size - result.size()));
    if (n <= 0) break;
    result.append(buffer, static_cast<size_t>(n));
  }
  return result;
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = Connect(port);
  if (fd < 0) return "connect failed";
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  if (write(fd, request.data(), request.size()) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return "write failed";
  }
  std::string response = ReadAll(fd);
  close(fd);
  return response;
}

std::string TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir =
      std::string(base != nullptr ? base : "/tmp") + "/server_test_XXXXXX";
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  return dir;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.config.kafka_port = 0;
    options_.config.http_port = 0;
    options_.config.data_dir = TempDir() + "/data";
    options_.handle_signals = false;
    options_.tick_interval_ms = 10;
    options_.shutdown_grace_ms = 500;
  }
  void Start() {
    auto server = Server::Create(options_, [this](const NodeEnvironment& env) {
      auto node = std::make_unique<FakeNode>(env);
      node_ = node.get();
      return absl::StatusOr<std::unique_ptr<Node>>(std::move(node));
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
  }
  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown();
      thread_.join();
      EXPECT_TRUE(run_status_.ok()) << run_status_;
    }
  }

  ServerOptions options_;
  std::unique_ptr<Server> server_;
  FakeNode* node_ = nullptr;
  std::thread thread_;
  absl::Status run_status_;
};

TEST_F(ServerTest, KafkaBytesReachTheNodeAndRepliesComeBackAfterProcess) {
  Start();
  EXPECT_TRUE(node_->started);
  const int fd = Connect(server_->kafka_port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "a\nb", 3), 3);
  ASSERT_EQ(write(fd, "c\n", 2), 2);
  EXPECT_EQ(ReadExactly(fd, 15), "echo:a\necho:bc\n");
  close(fd);
}

TEST_F(ServerTest, NodeCloseIsCarriedOutAndReportedOnce) {
  Start();
  const int fd = Connect(server_->kafka_port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "x\nclose\n", 8), 8);
  EXPECT_EQ(ReadAll(fd), "");  // closed before the reply was processed
  close(fd);
  for (int i = 0; i < 200 && node_->closed.load() == 0; ++i) usleep(5000);
  EXPECT_EQ(node_->closed.load(), 1);
}

TEST_F(ServerTest, ResumeDeliversBufferedInput) {
  Start();
  const int fd = Connect(server_->kafka_port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "pause\nafter\n", 12), 12);
  EXPECT_EQ(ReadExactly(fd, 11), "echo:after\n");
  close(fd);
}

TEST_F(ServerTest, HealthReadyMetricsAndNotFound) {
  Start();
  const int http = server_->http_port();
  EXPECT_THAT(HttpGet(http, "/health"), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(HttpGet(http, "/health"), HasSubstr("\r\n\r\nok\n"));
  EXPECT_THAT(HttpGet(http, "/ready"), StartsWith("HTTP/1.1 503 "));
  node_->ready = true;
  EXPECT_THAT(HttpGet(http, "/ready"), StartsWith("HTTP/1.1 200 "));
  const std::string metrics = HttpGet(http, "/metrics");
  EXPECT_THAT(metrics, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(metrics, HasSubstr("chronik_partitions 7\n"));
  EXPECT_THAT(metrics, HasSubstr("chronik_ready 1\n"));
  EXPECT_THAT(HttpGet(http, "/nope"), StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(HttpGet(http, "/../etc"), StartsWith("HTTP/1.1 404 "));
}

TEST_F(ServerTest, OversizedHttpRequestIsRefused) {
  options_.max_http_request_bytes = 256;
  Start();
  const int fd = Connect(server_->http_port());
  ASSERT_GE(fd, 0);
  const std::string request = "GET /" + std::string(1000, 'a');
  ASSERT_EQ(write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  EXPECT_THAT(ReadAll(fd), StartsWith("HTTP/1.1 431 "));
  close(fd);
}

TEST_F(ServerTest, IdleHttpConnectionIsClosed) {
  options_.http_request_timeout_ms = 50;
  Start();
  const int fd = Connect(server_->http_port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "GET /hea", 8), 8);  // never finished
  EXPECT_EQ(ReadAll(fd), "");              // EOF once the timeout passed
  close(fd);
  EXPECT_THAT(HttpGet(server_->http_port(), "/health"),
              StartsWith("HTTP/1.1 200 "));
}

TEST_F(ServerTest, TicksReachTheNode) {
  Start();
  for (int i = 0; i < 400 && node_->ticks.load() < 3; ++i) usleep(5000);
  EXPECT_GE(node_->ticks.load(), 3);
}

TEST_F(ServerTest, ShutdownStopsAcceptingAndRunReturns) {
  Start();
  const int port = server_->kafka_port();
  server_->Shutdown();
  thread_.join();
  EXPECT_TRUE(run_status_.ok());
  EXPECT_EQ(Connect(port), -1);
  server_.reset();
}

TEST_F(ServerTest, ShutdownWaitsUntilTheNodeHandedOverItsLeadership) {
  Start();
  node_->shutdown_ticks = 20;
  server_->Shutdown();
  thread_.join();
  EXPECT_TRUE(run_status_.ok());
  EXPECT_TRUE(node_->shutdown_begun.load());
  EXPECT_GE(node_->ticks_since_shutdown.load(), 20);
  server_.reset();
}

TEST_F(ServerTest, ClusterStatusIsServedAsJson) {
  Start();
  const std::string response = HttpGet(server_->http_port(), "/v1/cluster");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(response, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\n\r\n{\"node_id\":4,"));
  EXPECT_THAT(response, HasSubstr("\"topic\":\"a\\\"b\""));
}

TEST_F(ServerTest, TakenKafkaPortNamesListenerAndPortAndBindsNothing) {
  Start();
  ServerOptions second = options_;
  second.config.kafka_port = server_->kafka_port();
  second.config.data_dir = TempDir();
  auto failed = Server::Create(second, [](const NodeEnvironment& env) {
    return absl::StatusOr<std::unique_ptr<Node>>(
        std::make_unique<FakeNode>(env));
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("kafka listener"));
  EXPECT_THAT(failed.status().message(),
              HasSubstr(std::to_string(server_->kafka_port())));
}

TEST_F(ServerTest, TakenHttpPortReleasesTheKafkaPort) {
  Start();
  ServerOptions second = options_;
  second.config.http_port = server_->http_port();
  second.config.data_dir = TempDir();
  auto failed = Server::Create(second, [](const NodeEnvironment& env) {
    return absl::StatusOr<std::unique_ptr<Node>>(
        std::make_unique<FakeNode>(env));
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("http listener"));
  EXPECT_THAT(failed.status().message(),
              HasSubstr(std::to_string(server_->http_port())));
  // Issue 12: the seed's one-host nodes all took the default HTTP port; the
  // error says how to give each its own.
  EXPECT_THAT(failed.status().message(), HasSubstr("--http-port=PORT"));
  EXPECT_THAT(failed.status().message(), HasSubstr("http_port = PORT"));
}

TEST_F(ServerTest, SecondServerOnTheSameDataDirIsRefused) {
  Start();
  auto failed = Server::Create(options_, [](const NodeEnvironment& env) {
    return absl::StatusOr<std::unique_ptr<Node>>(
        std::make_unique<FakeNode>(env));
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("in use"));
}

TEST_F(ServerTest, DescribeNamesVersionListenersAndDataDir) {
  Start();
  const std::string line = server_->Describe();
  EXPECT_THAT(line, HasSubstr("chronik-server "));
  EXPECT_THAT(line, HasSubstr("kafka=127.0.0.1:" +
                              std::to_string(server_->kafka_port())));
  EXPECT_THAT(line, HasSubstr("http=127.0.0.1:" +
                              std::to_string(server_->http_port())));
  EXPECT_THAT(line, HasSubstr("data_dir=/"));
  EXPECT_THAT(line, HasSubstr("standalone"));
}

// A storage error that failed a node's Raft group stops the process at once
// (no drain: what it wrote can no longer be trusted) with EX_IOERR and a line
// naming the error, so a supervisor restarts it from what is durable.
TEST(ServerDeathTest, StorageFailureExitsAtOnceWithIoErrorStatus) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ServerOptions options;
  options.config.kafka_port = 0;
  options.config.http_port = 0;
  options.config.data_dir = TempDir() + "/data";
  options.handle_signals = false;
  options.tick_interval_ms = 10;
  EXPECT_EXIT(
      {
        auto server = Server::Create(options, [](const NodeEnvironment& env) {
          auto node = std::make_unique<FakeNode>(env);
          node->storage_failure =
              absl::DataLossError("EIO: fsync of segment 7 failed");
          return absl::StatusOr<std::unique_ptr<Node>>(std::move(node));
        });
        if (!server.ok()) std::exit(2);
        const int port = (*server)->kafka_port();
        std::thread client([port] {
          const int fd = Connect(port);
          if (fd >= 0 && write(fd, "x\n", 2) != 2) close(fd);
        });
        client.detach();
        (void)(*server)->Run();
        std::exit(3);  // Run returned: the failure did not stop the process
      },
      ::testing::ExitedWithCode(kStorageFailureExitCode),
      "stopping at once: .*EIO: fsync of segment 7 failed");
}

}  // namespace
}  // namespace chronik::runtime
