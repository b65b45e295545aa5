#include "broker/runtime/peer_transport.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

// Collects delivered messages (gRPC threads) for the test thread.
struct Inbox {
  void Deliver(std::vector<raft::WireMessage> messages) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& m : messages) received.push_back(std::move(m));
    changed.notify_all();
  }
  bool WaitFor(size_t count) {
    std::unique_lock<std::mutex> lock(mu);
    return changed.wait_for(lock, std::chrono::seconds(10),
                            [&] { return received.size() >= count; });
  }
  std::mutex mu;
  std::condition_variable changed;
  std::vector<raft::WireMessage> received;
};

raft::Message Append(raft::NodeId from, raft::NodeId to, raft::Index index) {
  raft::Message m;
  m.type = raft::MessageType::kAppend;
  m.from = from;
  m.to = to;
  m.term = 2;
  m.index = index;
  m.log_term = 2;
  m.entries.push_back(raft::Entry{2, index + 1, raft::EntryType::kNormal,
                                  raft::Bytes::Copy("payload")});
  return m;
}

TEST(PeerTransportTest, MessagesFlowBothWaysInOrderWithGroupIds) {
  Inbox inbox1, inbox2;
  PeerTransportOptions a;
  a.self = 1;
  auto node1 = PeerTransport::Start(a, [&](std::vector<raft::WireMessage> m) {
    inbox1.Deliver(std::move(m));
  });
  ASSERT_TRUE(node1.ok()) << node1.status();
  PeerTransportOptions b;
  b.self = 2;
  b.peers[1] = "127.0.0.1:" + std::to_string((*node1)->port());
  auto node2 = PeerTransport::Start(b, [&](std::vector<raft::WireMessage> m) {
    inbox2.Deliver(std::move(m));
  });
  ASSERT_TRUE(node2.ok()) << node2.status();
  for (raft::Index i = 1; i <= 50; ++i) (*node2)->Send(7, Append(2, 1, i));
  ASSERT_TRUE(inbox1.WaitFor(50));
  std::lock_guard<std::mutex> lock(inbox1.mu);
  for (size_t i = 0; i < 50; ++i) {
    EXPECT_EQ(inbox1.received[i].group_id, 7u);
    EXPECT_EQ(inbox1.received[i].message.index, i + 1);
    EXPECT_EQ(inbox1.received[i].message.entries.at(0).data.view(), "payload");
  }
}

TEST(PeerTransportTest, TakenRaftPortIsAnErrorNamingIt) {
  PeerTransportOptions first;
  first.self = 1;
  auto holder = PeerTransport::Start(first, [](auto) {});
  ASSERT_TRUE(holder.ok());
  PeerTransportOptions second;
  second.self = 2;
  second.port = (*holder)->port();
  auto taken = PeerTransport::Start(second, [](auto) {});
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().message().find("raft listener"), std::string::npos)
      << taken.status();
  EXPECT_NE(taken.status().message().find(std::to_string(second.port)),
            std::string::npos);
}

TEST(PeerTransportTest, UnreachablePeerDropsInsteadOfBlocking) {
  PeerTransportOptions options;
  options.self = 1;
  options.peers[2] = "127.0.0.1:1";  // nothing listens there
  options.max_queued_messages_per_peer = 10;
  auto node = PeerTransport::Start(options, [](auto) {});
  ASSERT_TRUE(node.ok());
  for (raft::Index i = 1; i <= 1000; ++i) (*node)->Send(0, Append(1, 2, i));
  (*node)->Send(0, Append(1, 9, 1));  // an unknown node
  EXPECT_GT((*node)->dropped(), 0u);
  // The queue filled up to its bound, and no further.
  EXPECT_EQ((*node)->peak_queued(), 10u);
}

TEST(PeerTransportTest, MessagesThatWaitedBehindTheSenderCountAsLate) {
  PeerTransportOptions options;
  options.self = 1;
  options.peers[2] = "127.0.0.1:1";  // nothing listens there
  options.reconnect_backoff_ms = 1000;
  auto node = PeerTransport::Start(options, [](auto) {});
  ASSERT_TRUE(node.ok());
  (*node)->Send(0, Append(1, 2, 1));
  // The sender takes it, fails to write it and pauses for a second; what is
  // queued meanwhile waits for it. (Had the sender not taken the first within
  // these 200 ms, that one was late instead.)
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (raft::Index i = 2; i <= 5; ++i) (*node)->Send(0, Append(1, 2, i));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_GE((*node)->late_batches(), 1u);
}

TEST(PeerTransportTest, StopWithALivePeerEndsDeliveriesAndSendsAtOnce) {
  // SIGTERM with live peers: the peer's stream never ends on its own, and a
  // delivery after the stop would post to a freed event loop.
  Inbox inbox1;
  PeerTransportOptions a;
  a.self = 1;
  auto node1 = PeerTransport::Start(a, [&](std::vector<raft::WireMessage> m) {
    inbox1.Deliver(std::move(m));
  });
  ASSERT_TRUE(node1.ok()) << node1.status();
  PeerTransportOptions b;
  b.self = 2;
  b.peers[1] = "127.0.0.1:" + std::to_string((*node1)->port());
  auto node2 = PeerTransport::Start(b, [](auto) {});
  ASSERT_TRUE(node2.ok()) << node2.status();
  (*node2)->Send(0, Append(2, 1, 1));
  ASSERT_TRUE(inbox1.WaitFor(1));
  const auto start = std::chrono::steady_clock::now();
  (*node1)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  for (raft::Index i = 2; i <= 20; ++i) (*node2)->Send(0, Append(2, 1, i));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    std::lock_guard<std::mutex> lock(inbox1.mu);
    EXPECT_EQ(inbox1.received.size(), 1u);
  }
  const uint64_t dropped = (*node1)->dropped();
  (*node1)->Send(0, Append(1, 2, 1));
  EXPECT_EQ((*node1)->dropped(), dropped + 1);
  (*node1)->Stop();  // idempotent
}

// Mutual TLS between brokers: PEM files from tools/tls/make-test-certs.sh.
std::string Pem(const std::string& name) {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TEST_TMPDIR");
    auto* path = new std::string(std::string(tmp != nullptr ? tmp : "/tmp") +
                                 "/raft-pki");
    const std::string command = "tools/tls/make-test-certs.sh " + *path;
    EXPECT_EQ(std::system(command.c_str()), 0);
    return path;
  }();
  std::ifstream file(*dir + "/" + name);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

PeerTransportOptions WithTls(raft::NodeId self, const std::string& cert,
                             const std::string& ca = "ca.pem") {
  PeerTransportOptions options;
  options.self = self;
  options.tls_cert_pem = Pem(cert + ".pem");
  options.tls_key_pem = Pem(cert + ".key");
  options.tls_ca_pem = Pem(ca);
  return options;
}

TEST(PeerTransportTest, MutualTlsCarriesMessagesAndRefusesAnUnknownPeer) {
  Inbox inbox1, inbox2;
  auto node1 = PeerTransport::Start(
      WithTls(1, "server"),
      [&](std::vector<raft::WireMessage> m) { inbox1.Deliver(std::move(m)); });
  ASSERT_TRUE(node1.ok()) << node1.status();
  const std::string address = "127.0.0.1:" + std::to_string((*node1)->port());
  PeerTransportOptions b = WithTls(2, "server");
  b.peers[1] = address;
  auto node2 = PeerTransport::Start(b, [&](std::vector<raft::WireMessage> m) {
    inbox2.Deliver(std::move(m));
  });
  ASSERT_TRUE(node2.ok()) << node2.status();
  for (raft::Index i = 1; i <= 5; ++i) (*node2)->Send(7, Append(2, 1, i));
  ASSERT_TRUE(inbox1.WaitFor(5));
  // A peer whose certificate another CA signed (trusting node 1's CA, so
  // only node 1's check refuses it), and one without TLS: nothing arrives.
  PeerTransportOptions stranger = WithTls(3, "stranger");
  stranger.tls_ca_pem = Pem("ca.pem");
  stranger.peers[1] = address;
  PeerTransportOptions plaintext;
  plaintext.self = 4;
  plaintext.peers[1] = address;
  std::vector<std::unique_ptr<PeerTransport>> others;
  ::testing::internal::CaptureStderr();
  for (const PeerTransportOptions& options : {stranger, plaintext}) {
    auto other =
        PeerTransport::Start(options, [](std::vector<raft::WireMessage>) {});
    ASSERT_TRUE(other.ok()) << other.status();
    (*other)->Send(7, Append(options.self, 1, 100));
    others.push_back(std::move(*other));
  }
  EXPECT_FALSE(inbox1.WaitFor(6));
  // The refusal is logged with the certificate and the reason.
  EXPECT_THAT(
      ::testing::internal::GetCapturedStderr(),
      ::testing::HasSubstr("raft: refused an incoming peer's TLS certificate "
                           "(CN=mallory,O=Other): unable to get local issuer "
                           "certificate"));
  std::lock_guard<std::mutex> lock(inbox1.mu);
  EXPECT_EQ(inbox1.received.size(), 5u);
}

// Node 1 starts with a certificate and CA node 2 does not trust (and that do
// not trust node 2): node 2 logs the refused certificate with node 1's
// address; after ReloadTls (SIGHUP) with the right files the messages flow.
TEST(PeerTransportTest, ReloadTlsSwapsCertificateAndCas) {
  Inbox inbox1;
  PeerTransportOptions a = WithTls(1, "stranger", "other-ca.pem");
  auto node1 = PeerTransport::Start(a, [&](std::vector<raft::WireMessage> m) {
    inbox1.Deliver(std::move(m));
  });
  ASSERT_TRUE(node1.ok()) << node1.status();
  const std::string address = "127.0.0.1:" + std::to_string((*node1)->port());
  PeerTransportOptions b = WithTls(2, "server");
  b.peers[1] = address;
  ::testing::internal::CaptureStderr();
  auto node2 = PeerTransport::Start(b, [](std::vector<raft::WireMessage>) {});
  ASSERT_TRUE(node2.ok()) << node2.status();
  for (raft::Index i = 1; i <= 10; ++i) {
    (*node2)->Send(7, Append(2, 1, i));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(inbox1.WaitFor(1));
  EXPECT_THAT(
      ::testing::internal::GetCapturedStderr(),
      ::testing::HasSubstr("raft: refused the TLS certificate of peer " +
                           address + " (CN=mallory,O=Other): "));
  // A key that does not match the certificate is refused.
  EXPECT_FALSE(
      (*node1)
          ->ReloadTls({Pem("server.pem"), Pem("client.key"), Pem("ca.pem")})
          .ok());
  ASSERT_TRUE(
      (*node1)
          ->ReloadTls({Pem("server.pem"), Pem("server.key"), Pem("ca.pem")})
          .ok());
  bool arrived = false;
  for (raft::Index i = 11; i <= 60 && !arrived; ++i) {
    (*node2)->Send(7, Append(2, 1, i));
    std::unique_lock<std::mutex> lock(inbox1.mu);
    arrived = inbox1.changed.wait_for(lock, std::chrono::milliseconds(200),
                                      [&] { return !inbox1.received.empty(); });
  }
  EXPECT_TRUE(arrived);
}

}  // namespace
}  // namespace chronik::runtime
