// The version string every chronik binary prints.
#ifndef CHRONIK_BROKER_VERSION_H_
#define CHRONIK_BROKER_VERSION_H_

namespace chronik {

inline constexpr char kVersion[] = "0.1.0-dev";

}  // namespace chronik

#endif  // CHRONIK_BROKER_VERSION_H_
