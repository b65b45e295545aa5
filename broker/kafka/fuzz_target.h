// One fuzz entry point shared by the libFuzzer binary (fuzz_main.cc, built
// with Debian's clang) and the deterministic mutation test (fuzz_test.cc).
//
// FuzzOneInput feeds `data` to the request decoder (as a whole frame or as a
// frame payload), to the record batch parser and record decoder, and to the
// response decoder of an API chosen by its first bytes. Malformed input must
// yield a Status; anything decoded must re-encode and decode to an equal
// value (CHECKed). A crash, sanitizer report or CHECK failure is a bug.
#ifndef CHRONIK_BROKER_KAFKA_FUZZ_TARGET_H_
#define CHRONIK_BROKER_KAFKA_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>

namespace chronik::kafka {

void FuzzOneInput(const uint8_t* data, size_t size);

}  // namespace chronik::kafka

#endif  // CHRONIK_BROKER_KAFKA_FUZZ_TARGET_H_
