// The security flags and the PLAIN users file, through ParseServerConfig.
#include <map>
#include <string>
#include <vector>

#include "broker/config/server_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<ServerConfig> Parse(std::vector<std::string> args,
                                   const std::string& users_text) {
  FileReader read =
      [users_text](const std::string& path) -> absl::StatusOr<std::string> {
    if (path != "/etc/users.txt") return absl::NotFoundError("no such file");
    return users_text;
  };
  args.insert(args.begin(), "standalone");
  return ParseServerConfig(args, {}, read);
}

TEST(SecurityConfigTest, UsersFileSkipsCommentsAndBlankLines) {
  absl::StatusOr<ServerConfig> config =
      Parse({"--kafka-security-protocol=sasl_plaintext",
             "--sasl-plain-users-file=/etc/users.txt",
             "--super-users=User:admin; User:ops"},
            "# users\n\nadmin:s3cret:with:colons\n  alice:pw  \n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka_security_protocol,
            env::SecurityProtocol::kSaslPlaintext);
  const std::map<std::string, std::string> want = {
      {"admin", "s3cret:with:colons"}, {"alice", "pw"}};
  EXPECT_EQ(config->sasl_plain_users, want);
  EXPECT_EQ(config->super_users,
            (std::vector<std::string>{"User:admin", "User:ops"}));
}

TEST(SecurityConfigTest, UsersFileErrorsNamePathAndLineNeverThePassword) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"admin:ok\nno-colon-hunter2\n", "/etc/users.txt:2: expected"},
      {"# c\n:hunter2\n", "/etc/users.txt:2: expected"},
      {"bob:\n", "/etc/users.txt:1: expected"},
      {"bob:one\n\nbob:hunter2\n", "/etc/users.txt:3: user 'bob' listed twice"},
  };
  for (const auto& [text, want] : cases) {
    absl::StatusOr<ServerConfig> config =
        Parse({"--sasl-plain-users-file=/etc/users.txt"}, text);
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_THAT(config.status().message(), HasSubstr(want)) << text;
    EXPECT_THAT(config.status().message(), Not(HasSubstr("hunter2")));
  }
  absl::StatusOr<ServerConfig> missing =
      Parse({"--sasl-plain-users-file=/nope"}, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(),
              HasSubstr("--sasl-plain-users-file /nope"));
}

TEST(SecurityConfigTest, BadSecurityFlagsAreRefused) {
  for (const char* flag :
       {"--kafka-security-protocol=SSL", "--super-users=admin",
        "--allow-everyone-if-no-acl-found=maybe",
        "--connections-max-reauth-ms=-5", "--failed-authentication-delay-ms=-1",
        "--failed-authentication-delay-ms=60001"}) {
    EXPECT_FALSE(Parse({flag}, "").ok()) << flag;
  }
}

TEST(SecurityConfigTest, FailedAuthenticationDelayFromFlagVariableOrFile) {
  EXPECT_EQ(Parse({}, "")->failed_authentication_delay_ms, 100);
  EXPECT_EQ(Parse({"--failed-authentication-delay-ms=250"}, "")
                ->failed_authentication_delay_ms,
            250);
  absl::StatusOr<ServerConfig> from_env = ParseServerConfig(
      {"standalone"}, {{"CHRONIK_FAILED_AUTHENTICATION_DELAY_MS", "0"}},
      [](const std::string&) -> absl::StatusOr<std::string> {
        return absl::NotFoundError("none");
      });
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->failed_authentication_delay_ms, 0);
  // The cluster file's key (as every security flag's: the flag with '_').
  const std::string file = R"(node_id = 1
failed_authentication_delay_ms = 400
super_users = "User:admin"

[[peers]]
id = 1
addr = "127.0.0.1:9092"
raft_port = 9192
)";
  FileReader read =
      [file](const std::string& path) -> absl::StatusOr<std::string> {
    if (path != "c.toml") return absl::NotFoundError("no such file");
    return file;
  };
  absl::StatusOr<ServerConfig> from_file =
      ParseServerConfig({"--cluster-config=c.toml"}, {}, read);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->failed_authentication_delay_ms, 400);
  EXPECT_EQ(from_file->super_users, std::vector<std::string>{"User:admin"});
}

}  // namespace
}  // namespace chronik::config
