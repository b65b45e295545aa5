#include "broker/runtime/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace chronik::runtime {
namespace {

// Process-wide level (runtime code may hold globals; see ARCHITECTURE.md).
std::atomic<int> g_level{static_cast<int>(config::LogLevel::kInfo)};

const char* LevelTag(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kDebug:
      return "DEBUG";
    case config::LogLevel::kInfo:
      return "INFO ";
    case config::LogLevel::kWarn:
      return "WARN ";
    case config::LogLevel::kError:
      return "ERROR";
  }
  return "?    ";
}

}  // namespace

void SetLogLevel(config::LogLevel level) {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool LogEnabled(config::LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Log(config::LogLevel level, std::string_view message) {
  if (!LogEnabled(level)) return;
  const auto now = std::chrono::system_clock::now();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         now.time_since_epoch())
                         .count();
  const time_t seconds = static_cast<time_t>(ms / 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
  std::string line = stamp;
  line += LevelTag(level);
  line += ' ';
  line.append(message.data(), message.size());
  line += '\n';
  // One write per line: lines of concurrent writers never interleave. A
  // failed or short write to stderr has nowhere to be reported.
  const ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace chronik::runtime
