// libFuzzer entry point (built with clang -fsanitize=fuzzer,address by the
// :request_fuzzer genrule). See fuzz_target.h.
#include <cstddef>
#include <cstdint>

#include "broker/kafka/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  chronik::kafka::FuzzOneInput(data, size);
  return 0;
}
