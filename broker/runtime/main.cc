// chronik-server entry point: parses flags, CHRONIK_* variables and the
// cluster file (broker/config), then runs the broker. Until the standalone
// broker lands (issue 7) it validates its configuration, says that serving is
// not yet implemented, and exits non-zero so no script mistakes it for a
// running broker.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/config/server_config.h"
#include "broker/version.h"

extern char** environ;

namespace {

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t equals = text.find('=');
    if (equals != std::string::npos && text.rfind("CHRONIK_", 0) == 0) {
      env[text.substr(0, equals)] = text.substr(equals + 1);
    }
  }
  return env;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::InternalError("read failed");
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<chronik::config::ServerConfig> config =
      chronik::config::ParseServerConfig(args, Environment(), ReadFile);
  if (!config.ok()) {
    std::fprintf(stderr, "chronik-server: %s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  if (config->show_help) {
    std::printf("%s", chronik::config::ServerConfigUsage().c_str());
    return 0;
  }
  std::printf("chronik-server %s\n", chronik::kVersion);
  if (config->show_version) return 0;
  std::fprintf(stderr,
               "chronik-server: serving is not yet implemented (the "
               "configuration is valid: %s mode, kafka port %d, data dir %s)\n",
               config->mode == chronik::config::ServerConfig::Mode::kCluster
                   ? "cluster"
                   : "standalone",
               config->kafka_port, config->data_dir.c_str());
  return 2;
}
