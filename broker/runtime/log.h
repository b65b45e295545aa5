// Log: the production driver's log lines, one per event, to stderr.
//
// Format: "2026-11-26T05:48:01.123Z INFO  message". Each line is written with a
// single write(2) so lines from different threads never interleave. The level
// is process-wide (set once from --log-level at start); lines below it are
// dropped before formatting (check LogEnabled first for costly messages).
// Thread-safe. Only broker/runtime calls these directly; deterministic code
// logs through env::LogSink, which production implements with StderrLogSink.
#ifndef CHRONIK_BROKER_RUNTIME_LOG_H_
#define CHRONIK_BROKER_RUNTIME_LOG_H_

#include <string_view>

#include "broker/config/server_config.h"
#include "broker/env/env.h"

namespace chronik::runtime {

void SetLogLevel(config::LogLevel level);
bool LogEnabled(config::LogLevel level);
void Log(config::LogLevel level, std::string_view message);

inline void LogDebug(std::string_view m) { Log(config::LogLevel::kDebug, m); }
inline void LogInfo(std::string_view m) { Log(config::LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(config::LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(config::LogLevel::kError, m); }

// The node's env::LogSink in production: these lines, on stderr.
class StderrLogSink final : public env::LogSink {
 public:
  bool Enabled(env::LogLevel level) const override { return LogEnabled(level); }
  void Log(env::LogLevel level, absl::string_view line) override {
    runtime::Log(level, std::string_view(line.data(), line.size()));
  }
};

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_LOG_H_
