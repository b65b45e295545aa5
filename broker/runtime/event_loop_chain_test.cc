// EventLoop::Send of a ByteChain: the parts go out in order with writev, and a
// short write that ends inside a part resumes at the right byte (the client
// reads slowly through a small receive buffer, so the writes stop short many
// times, mostly inside parts).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/runtime/event_loop.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

// The chain sent: parts of several sizes, each a slice of a buffer with
// bytes around it that must never be sent, more parts than one writev takes.
ByteChain MakeChain() {
  ByteChain chain;
  uint32_t state = 12345;
  for (int i = 0; i < 3 * EventLoop::kMaxIovecsPerWrite; ++i) {
    const size_t size = i % 10 == 0 ? 300'001 : 1 + (i * 977) % 20'000;
    auto buffer = std::make_shared<std::string>(size + 20, '#');
    for (size_t j = 10; j < size + 10; ++j) {
      state = state * 1103515245 + 12345;
      (*buffer)[j] = static_cast<char>('a' + (state >> 16) % 26);
    }
    chain.Append(
        SharedBytes::Slice(buffer, std::string_view(*buffer).substr(10, size)));
  }
  return chain;
}

// Answers "go" with the chain, twice (two Sends queue behind each other).
class ChainSender : public ConnectionHandler {
 public:
  ChainSender(EventLoop* loop, ByteChain chain)
      : loop_(loop), chain_(std::move(chain)) {}
  void OnOpen(ConnectionId, const std::string&) override {}
  void OnInput(ConnectionId id, InputBuffer* input) override {
    if (input->view().find("go") == std::string::npos) return;
    input->Clear();
    loop_->Send(id, chain_);
    loop_->Send(id, chain_);
  }
  void OnClose(ConnectionId) override {}

 private:
  EventLoop* loop_;
  const ByteChain chain_;
};

TEST(EventLoopChainTest, PartsArriveInOrderAcrossShortWrites) {
  const ByteChain chain = MakeChain();
  const std::string want = chain.Flatten() + chain.Flatten();
  ASSERT_GT(want.size(), size_t{8} << 20);
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok()) << loop.status();
  ChainSender sender(loop->get(), chain);
  auto port = (*loop)->Listen({.name = "chain"}, &sender);
  ASSERT_TRUE(port.ok()) << port.status();
  std::thread thread([&] { (*loop)->Run(); });

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int small = 4096;
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(*port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  ASSERT_EQ(write(fd, "go", 2), 2);
  usleep(50'000);  // the sender fills the socket and waits for EPOLLOUT
  std::string got;
  std::vector<char> buffer(7777);  // odd reads, never aligned to parts
  while (got.size() < want.size()) {
    const ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n <= 0) break;
    got.append(buffer.data(), static_cast<size_t>(n));
  }
  close(fd);
  (*loop)->Stop();
  thread.join();
  ASSERT_EQ(got.size(), want.size());
  // Not EXPECT_EQ on 15 MiB strings: the first differing byte.
  size_t first_diff = 0;
  while (first_diff < want.size() && got[first_diff] == want[first_diff]) {
    ++first_diff;
  }
  EXPECT_EQ(first_diff, want.size()) << "bytes differ from " << first_diff;
}

}  // namespace
}  // namespace chronik::runtime
