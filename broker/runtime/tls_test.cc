// TLS on an EventLoop listener over loopback, with a PKI the test makes with
// the openssl command (tools/tls/make-test-certs.sh): TLS 1.2 and 1.3,
// mutual TLS and its principal, refused client certificates, a plaintext
// client, a stalled handshake, reload without dropping connections, and the
// errors at start for bad files.
#include "broker/runtime/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/check.h"
#include "broker/runtime/event_loop.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

using ::testing::HasSubstr;

std::string Pki() {
  static const std::string* dir = [] {
    auto* path = new std::string(absl::StrCat(
        std::getenv("TEST_TMPDIR") != nullptr ? std::getenv("TEST_TMPDIR")
                                              : "/tmp",
        "/pki"));
    const std::string command =
        absl::StrCat("tools/tls/make-test-certs.sh ", *path);
    CHRONIK_CHECK_EQ(std::system(command.c_str()), 0) << command;
    return path;
  }();
  return *dir;
}

std::string File(const std::string& name) { return Pki() + "/" + name; }

config::TlsConfig ServerTls(config::TlsClientAuth auth) {
  config::TlsConfig tls;
  tls.cert_file = File("server.pem");
  tls.key_file = File("server.key");
  tls.ca_file = File("ca.pem");
  tls.client_auth = auth;
  return tls;
}

// Echoes what it receives; remembers each connection's principal.
class Echo : public ConnectionHandler {
 public:
  explicit Echo(EventLoop* loop) : loop_(loop) {}
  void OnOpen(ConnectionId id, const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    principals_.push_back(loop_->TlsPrincipalOf(id));
  }
  void OnInput(ConnectionId id, InputBuffer* input) override {
    loop_->Send(id, std::string(input->view()));
    input->Clear();
  }
  void OnClose(ConnectionId) override {}
  std::vector<std::string> principals() {
    std::lock_guard<std::mutex> lock(mu_);
    return principals_;
  }

 private:
  EventLoop* loop_;
  std::mutex mu_;
  std::vector<std::string> principals_;
};

class TlsTest : public ::testing::Test {
 protected:
  void Start(config::TlsClientAuth auth, int64_t handshake_timeout_ms = 10'000,
             const config::TlsConfig* files = nullptr) {
    auto tls = TlsContext::Create(files != nullptr ? *files : ServerTls(auth));
    ASSERT_TRUE(tls.ok()) << tls.status();
    tls_ = std::move(*tls);
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    echo_ = std::make_unique<Echo>(loop_.get());
    auto port =
        loop_->Listen({.name = "SSL",
                       .tls = tls_.get(),
                       .tls_handshake_timeout_ms = handshake_timeout_ms},
                      echo_.get());
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    thread_ = std::thread([this] { loop_->Run(); });
  }
  ~TlsTest() override {
    if (thread_.joinable()) {
      loop_->Stop();
      thread_.join();
    }
  }

  int Connect() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    EXPECT_EQ(
        connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    return fd;
  }

  struct Client {
    SSL_CTX* context = nullptr;
    SSL* ssl = nullptr;
    int fd = -1;
    bool handshake_ok = false;
    ~Client() {
      if (ssl != nullptr) SSL_free(ssl);
      if (context != nullptr) SSL_CTX_free(context);
      if (fd >= 0) close(fd);
    }
    // One round trip; "" when the server refused or closed.
    std::string Echo(const std::string& text) {
      if (SSL_write(ssl, text.data(), static_cast<int>(text.size())) <= 0) {
        return "";
      }
      std::string got;
      char buffer[256];
      while (got.size() < text.size()) {
        const int n = SSL_read(ssl, buffer, sizeof(buffer));
        if (n <= 0) return "";
        got.append(buffer, n);
      }
      return got;
    }
  };

  // A TLS client (with a client certificate `name`.pem/.key unless "").
  std::unique_ptr<Client> TlsClient(const std::string& name,
                                    int max_version = TLS1_3_VERSION) {
    auto client = std::make_unique<Client>();
    client->context = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(client->context, max_version);
    SSL_CTX_load_verify_locations(client->context, File("ca.pem").c_str(),
                                  nullptr);
    SSL_CTX_set_verify(client->context, SSL_VERIFY_PEER, nullptr);
    if (!name.empty()) {
      EXPECT_EQ(
          SSL_CTX_use_certificate_file(
              client->context, File(name + ".pem").c_str(), SSL_FILETYPE_PEM),
          1);
      EXPECT_EQ(
          SSL_CTX_use_PrivateKey_file(
              client->context, File(name + ".key").c_str(), SSL_FILETYPE_PEM),
          1);
    }
    client->fd = Connect();
    client->ssl = SSL_new(client->context);
    SSL_set_fd(client->ssl, client->fd);
    client->handshake_ok = SSL_connect(client->ssl) == 1;
    ERR_clear_error();
    return client;
  }

  // Whether the server closed `fd` (a read sees the end of the stream).
  static bool ClosedByServer(int fd) {
    char buffer[256];
    while (true) {
      const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;  // EAGAIN: the 5 s timeout
    }
  }

  std::unique_ptr<TlsContext> tls_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Echo> echo_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(TlsTest, Tls12And13RoundTripWithoutClientCertificates) {
  Start(config::TlsClientAuth::kNone);
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    std::unique_ptr<Client> client = TlsClient("", version);
    ASSERT_TRUE(client->handshake_ok) << version;
    EXPECT_EQ(SSL_version(client->ssl), version);
    // More than one TLS record, both ways.
    const std::string big(100'000, 'x');
    EXPECT_EQ(client->Echo(big), big);
  }
  EXPECT_THAT(echo_->principals(), ::testing::ElementsAre("", ""));
}

TEST_F(TlsTest, MutualTlsGivesThePrincipalOfTheClientCertificate) {
  Start(config::TlsClientAuth::kRequired);
  std::unique_ptr<Client> client = TlsClient("client");
  ASSERT_TRUE(client->handshake_ok);
  EXPECT_EQ(client->Echo("hello"), "hello");
  EXPECT_THAT(echo_->principals(),
              ::testing::ElementsAre("User:CN=alice,OU=Clients,O=Example"));
}

TEST_F(TlsTest, RefusedClientCertificatesCloseTheConnectionOnly) {
  Start(config::TlsClientAuth::kRequired);
  // No certificate, one of an unknown CA, an expired one. (In TLS 1.3 the
  // client learns of the refusal at its first read.)
  for (const char* name : {"", "stranger", "expired"}) {
    std::unique_ptr<Client> client = TlsClient(name);
    EXPECT_EQ(client->handshake_ok ? client->Echo("x") : "", "") << name;
  }
  EXPECT_TRUE(echo_->principals().empty());
  // The listener still serves.
  std::unique_ptr<Client> good = TlsClient("client");
  ASSERT_TRUE(good->handshake_ok);
  EXPECT_EQ(good->Echo("still up"), "still up");
}

TEST_F(TlsTest, APlaintextClientIsClosedAndTheNextClientServed) {
  Start(config::TlsClientAuth::kNone);
  const int fd = Connect();
  // A Kafka ApiVersions request in plaintext.
  const std::string request(
      "\0\0\0\x0d\0\x12\0\0\0\0\0\x01\0\x03"
      "abc",
      17);
  ASSERT_EQ(write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  EXPECT_TRUE(ClosedByServer(fd));
  close(fd);
  std::unique_ptr<Client> client = TlsClient("");
  ASSERT_TRUE(client->handshake_ok);
  EXPECT_EQ(client->Echo("next"), "next");
  EXPECT_THAT(echo_->principals(), ::testing::ElementsAre(""));
}

TEST_F(TlsTest, AHandshakeThatNeverFinishesIsTimedOut) {
  Start(config::TlsClientAuth::kNone, /*handshake_timeout_ms=*/300);
  const int fd = Connect();
  const absl::Time start = absl::Now();
  EXPECT_TRUE(ClosedByServer(fd));  // no ClientHello sent at all
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  close(fd);
  // The listener still serves.
  std::unique_ptr<Client> client = TlsClient("");
  ASSERT_TRUE(client->handshake_ok);
  EXPECT_EQ(client->Echo("ok"), "ok");
  EXPECT_TRUE(echo_->principals().size() == 1);
}

TEST_F(TlsTest, ReloadKeepsOpenConnectionsAndAFailedReloadKeepsTheFiles) {
  // The broker's files are copies the test replaces.
  const std::string dir = Pki() + "/reload";
  ASSERT_EQ(
      std::system(absl::StrCat("mkdir -p ", dir, " && cp ", File("server.pem"),
                               " ", File("server.key"), " ", dir)
                      .c_str()),
      0);
  config::TlsConfig files = ServerTls(config::TlsClientAuth::kRequested);
  files.cert_file = dir + "/server.pem";
  files.key_file = dir + "/server.key";
  Start(config::TlsClientAuth::kRequested, 10'000, &files);
  auto reload = [&] {
    absl::Status status;
    std::promise<void> done;
    loop_->Post([&] {
      status = tls_->Reload();
      done.set_value();
    });
    done.get_future().wait();
    return status;
  };
  std::unique_ptr<Client> open = TlsClient("client");
  ASSERT_TRUE(open->handshake_ok);
  EXPECT_EQ(open->Echo("before"), "before");
  // A broken certificate file: the reload fails naming it, the old one stays.
  ASSERT_EQ(
      std::system(absl::StrCat("echo garbage > ", files.cert_file).c_str()), 0);
  EXPECT_THAT(reload().message(), HasSubstr(files.cert_file));
  std::unique_ptr<Client> during = TlsClient("client");
  ASSERT_TRUE(during->handshake_ok);
  EXPECT_EQ(during->Echo("during"), "during");
  // Fixed: the reload takes it; open connections stay open.
  ASSERT_EQ(
      std::system(absl::StrCat("cp ", File("server.pem"), " ", files.cert_file)
                      .c_str()),
      0);
  const absl::Status reloaded = reload();
  EXPECT_TRUE(reloaded.ok()) << reloaded;
  EXPECT_EQ(open->Echo("after"), "after");
  EXPECT_EQ(during->Echo("after"), "after");
  std::unique_ptr<Client> fresh = TlsClient("client");
  ASSERT_TRUE(fresh->handshake_ok);
  EXPECT_EQ(fresh->Echo("new"), "new");
  // Requested: a client without a certificate is served, without principal.
  std::unique_ptr<Client> anonymous = TlsClient("");
  ASSERT_TRUE(anonymous->handshake_ok);
  EXPECT_EQ(anonymous->Echo("anon"), "anon");
  EXPECT_EQ(echo_->principals().back(), "");
}

TEST(TlsContextTest, BadFilesAreNamedAtStart) {
  config::TlsConfig tls = ServerTls(config::TlsClientAuth::kNone);
  tls.cert_file = File("missing.pem");
  EXPECT_THAT(TlsContext::Create(tls).status().message(),
              HasSubstr("--tls-cert-file " + File("missing.pem") +
                        ": cannot read it: No such file"));
  tls = ServerTls(config::TlsClientAuth::kNone);
  tls.cert_file = File("server.key");
  EXPECT_THAT(TlsContext::Create(tls).status().message(),
              HasSubstr("--tls-cert-file " + File("server.key") +
                        ": not a PEM certificate"));
  tls = ServerTls(config::TlsClientAuth::kNone);
  tls.key_file = File("wrong.key");
  EXPECT_THAT(TlsContext::Create(tls).status().message(),
              HasSubstr("--tls-key-file " + File("wrong.key") +
                        ": the key does not match the certificate"));
  tls = ServerTls(config::TlsClientAuth::kNone);
  tls.cert_file = File("expired.pem");
  tls.key_file = File("expired.key");
  EXPECT_THAT(TlsContext::Create(tls).status().message(),
              HasSubstr("the certificate has expired"));
  tls = ServerTls(config::TlsClientAuth::kNone);
  tls.key_file = "/proc/nonexistent/key.pem";
  EXPECT_THAT(TlsContext::Create(tls).status().message(),
              HasSubstr("--tls-key-file /proc/nonexistent/key.pem: cannot "
                        "read it"));
}

}  // namespace
}  // namespace chronik::runtime
