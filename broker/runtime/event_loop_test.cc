#include "broker/runtime/event_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

using ::testing::HasSubstr;

// Echoes every complete line ("...\n") back upper-cased; "quit\n" closes after
// the reply is flushed.
class LineEcho : public ConnectionHandler {
 public:
  explicit LineEcho(EventLoop* loop) : loop_(loop) {}
  void OnOpen(ConnectionId, const std::string&) override { ++opened; }
  void OnInput(ConnectionId id, InputBuffer* input) override {
    size_t end;
    while ((end = input->view().find('\n')) != std::string::npos) {
      std::string line(input->view().substr(0, end + 1));
      input->Consume(end + 1);
      const bool quit = line == "quit\n";
      for (char& c : line) c = static_cast<char>(toupper(c));
      loop_->Send(id, line);
      if (quit) loop_->CloseAfterFlush(id);
    }
  }
  void OnClose(ConnectionId) override { ++closed; }
  int opened = 0;
  int closed = 0;

 private:
  EventLoop* loop_;
};

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  return fd;
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

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    handler_ = std::make_unique<LineEcho>(loop_.get());
    auto port = loop_->Listen({.name = "echo"}, handler_.get());
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    thread_ = std::thread([this] { loop_->Run(); });
  }
  void TearDown() override {
    loop_->Stop();
    thread_.join();
  }
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<LineEcho> handler_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(EventLoopTest, EchoesSplitAndCoalescedInput) {
  const int fd = Connect(port_);
  ASSERT_EQ(write(fd, "hel", 3), 3);
  usleep(10'000);
  ASSERT_EQ(write(fd, "lo\nwor", 6), 6);
  ASSERT_EQ(write(fd, "ld\n", 3), 3);
  EXPECT_EQ(ReadExactly(fd, 12), "HELLO\nWORLD\n");
  close(fd);
}

TEST_F(EventLoopTest, CloseAfterFlushSendsReplyThenEof) {
  const int fd = Connect(port_);
  ASSERT_EQ(write(fd, "quit\n", 5), 5);
  EXPECT_EQ(ReadExactly(fd, 100), "QUIT\n");  // then EOF ends the read
  close(fd);
}

TEST_F(EventLoopTest, LargeReplyIsWrittenCompletely) {
  const int fd = Connect(port_);
  const std::string big(4 << 20, 'a');
  std::thread writer([&] {
    ASSERT_EQ(write(fd, big.data(), big.size()),
              static_cast<ssize_t>(big.size()));
    ASSERT_EQ(write(fd, "\n", 1), 1);
  });
  const std::string reply = ReadExactly(fd, big.size() + 1);
  writer.join();
  EXPECT_EQ(reply.size(), big.size() + 1);
  EXPECT_EQ(reply.substr(0, 3), "AAA");
  close(fd);
}

// Frames of a u32 big-endian length and a payload; reserves the next frame's
// size in the input as the Kafka connection table does, so the loop reads
// large frames straight into it. It marks the spare room it leaves and
// counts the marked bytes past the input found changed the next time: the
// loop must write only the bytes it received (no zero-fill of the room).
class FrameCollector : public ConnectionHandler {
 public:
  static constexpr char kUnread = '\x5a';
  void OnOpen(ConnectionId, const std::string&) override {}
  void OnInput(ConnectionId, InputBuffer* input) override {
    if (input->data() == marked_data && input->capacity() == marked_up_to) {
      for (size_t i = input->size(); i < marked_up_to; ++i) {
        if (input->data()[i] != kUnread) ++spare_bytes_written;
      }
    }
    while (input->size() >= 4) {
      const size_t length = FrameLength(*input);
      if (input->size() < 4 + length) break;
      std::lock_guard<std::mutex> lock(mu);
      frames.emplace_back(input->view().substr(4, length));
      input->Consume(4 + length);
    }
    if (input->size() >= 4) input->Reserve(4 + FrameLength(*input));
    // Marks the spare room: the loop must write only the bytes it reads.
    std::fill_n(input->spare_data(), input->spare_bytes(), kUnread);
    marked_data = input->data();
    marked_up_to = input->capacity();
  }
  void OnClose(ConnectionId) override {}
  static size_t FrameLength(const InputBuffer& input) {
    const auto* b = reinterpret_cast<const unsigned char*>(input.data());
    return (size_t{b[0]} << 24) | (size_t{b[1]} << 16) | (size_t{b[2]} << 8) |
           size_t{b[3]};
  }
  std::mutex mu;
  std::vector<std::string> frames;
  const char* marked_data = nullptr;
  size_t marked_up_to = 0;
  size_t spare_bytes_written = 0;  // loop thread until it stopped
};

TEST(EventLoopInputTest, LargeFramesAreReadIntoTheReservedInputIntact) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok()) << loop.status();
  FrameCollector collector;
  auto port = (*loop)->Listen({.name = "frames"}, &collector);
  ASSERT_TRUE(port.ok()) << port.status();
  std::thread runner([&] { (*loop)->Run(); });
  std::string wire;
  std::vector<std::string> sent;
  for (size_t length : {1u << 20, 100u << 10, 300u, 2u << 20, 70u << 10, 5u}) {
    std::string payload(length, '\0');
    for (size_t i = 0; i < length; ++i) {
      payload[i] = static_cast<char>((i * 7 + length) % 251);
    }
    const uint32_t n = static_cast<uint32_t>(length);
    const char head[4] = {static_cast<char>(n >> 24),
                          static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                          static_cast<char>(n)};
    wire.append(head, 4);
    wire += payload;
    sent.push_back(std::move(payload));
  }
  const int fd = Connect(*port);
  for (size_t at = 0; at < wire.size();) {  // odd pieces, split headers too
    const size_t piece = std::min<size_t>(10'007, wire.size() - at);
    ASSERT_EQ(write(fd, wire.data() + at, piece), static_cast<ssize_t>(piece));
    at += piece;
  }
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard<std::mutex> lock(collector.mu);
      if (collector.frames.size() == sent.size()) break;
    }
    usleep(10'000);
  }
  close(fd);
  (*loop)->Stop();
  runner.join();
  ASSERT_EQ(collector.frames.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_TRUE(collector.frames[i] == sent[i]) << "frame " << i;
  }
  // Most of the large frames' bytes went straight into the input, and the
  // loop wrote nothing into the room past the bytes it read.
  EXPECT_GT((*loop)->direct_read_bytes(), 2u << 20);
  EXPECT_EQ(collector.spare_bytes_written, 0u);
}

TEST_F(EventLoopTest, PostRunsOnLoopThread) {
  std::promise<std::thread::id> ran_on;
  loop_->Post([&] { ran_on.set_value(std::this_thread::get_id()); });
  EXPECT_EQ(ran_on.get_future().get(), thread_.get_id());
}

TEST(EventLoopStatsTest, ALongIterationIsCountedAndDelaysTheTimer) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok()) << loop.status();
  std::promise<void> ticked_after_stall;
  bool stalled = false;  // loop thread only
  bool told = false;
  (*loop)->RunEvery(absl::Milliseconds(20), [&] {
    if (stalled && !told) {
      told = true;
      ticked_after_stall.set_value();
    }
  });
  std::thread runner([&] { (*loop)->Run(); });
  (*loop)->Post([&] {
    usleep(300'000);  // the loop thread busy for 300 ms, as a long Process
    stalled = true;
  });
  ticked_after_stall.get_future().wait();
  (*loop)->Stop();
  runner.join();
  const EventLoop::Stats& stats = (*loop)->stats();
  EXPECT_GT(stats.iterations, 1u);
  EXPECT_EQ(stats.slow_iterations, 1u);
  EXPECT_GE(stats.longest_iteration_ms, 300);
  // The 20 ms timer fell due during the stall and ran after it.
  EXPECT_GE(stats.longest_timer_lateness_ms, 200);
}

TEST_F(EventLoopTest, WatchReadableRunsCallbackOnLoopThread) {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::promise<uint64_t> value;
  loop_->Post([&] {
    loop_->WatchReadable(fd, [&, fd] {
      uint64_t count = 0;
      ASSERT_EQ(read(fd, &count, sizeof(count)), 8);
      value.set_value(count);
    });
    const uint64_t three = 3;
    ASSERT_EQ(write(fd, &three, sizeof(three)), 8);
  });
  EXPECT_EQ(value.get_future().get(), 3u);
  close(fd);  // also removes it from the epoll set
}

TEST_F(EventLoopTest, CloseListenersRefusesNewConnectionsKeepsOpenOnes) {
  const int open_fd = Connect(port_);
  ASSERT_EQ(write(open_fd, "a\n", 2), 2);
  EXPECT_EQ(ReadExactly(open_fd, 2), "A\n");
  std::promise<void> closed;
  loop_->Post([&] {
    loop_->CloseListeners();
    closed.set_value();
  });
  closed.get_future().get();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port_));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_NE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  close(fd);
  ASSERT_EQ(write(open_fd, "b\n", 2), 2);
  EXPECT_EQ(ReadExactly(open_fd, 2), "B\n");
  close(open_fd);
}

TEST(EventLoopSignalTest, SignalfdDeliversSigtermToTheLoop) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &mask, nullptr), 0);
  const int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  int signals = 0;
  (*loop)->WatchReadable(fd, [&] {
    signalfd_siginfo info;
    while (read(fd, &info, sizeof(info)) == sizeof(info)) {
      EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR1));
      ++signals;
    }
    (*loop)->Stop();
  });
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  (*loop)->Run();  // returns only once the signal was seen
  EXPECT_EQ(signals, 1);
  close(fd);
}

TEST(EventLoopListenTest, TakenPortIsAnErrorNamingListenerAndPort) {
  auto first = EventLoop::Create();
  auto second = EventLoop::Create();
  ASSERT_TRUE(first.ok() && second.ok());
  LineEcho handler(first->get());
  auto port = (*first)->Listen({.name = "kafka"}, &handler);
  ASSERT_TRUE(port.ok());
  auto taken = (*second)->Listen({.name = "kafka", .port = *port}, &handler);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(taken.status().message(), HasSubstr("kafka listener"));
  EXPECT_THAT(
      taken.status().message(),
      HasSubstr("port " + std::to_string(*port) + " is already in use"));
}

TEST(EventLoopListenTest, BadAddressIsAnError) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  LineEcho handler(loop->get());
  auto result =
      (*loop)->Listen({.name = "http", .host = "not-an-ip"}, &handler);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace chronik::runtime
