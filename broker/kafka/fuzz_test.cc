// Deterministic, seeded mutation fuzzing of FuzzOneInput with the GCC build
// (so it also runs under --config=asan/ubsan): every captured client frame and
// a set of built batches are truncated, bit-flipped, byte-overwritten,
// spliced and extended many times. The clang libFuzzer run is
// :libfuzzer_test; this test keeps the same entry point covered everywhere.
#include <string>
#include <vector>

#include "broker/kafka/embedded_testdata.h"
#include "broker/kafka/fuzz_target.h"
#include "broker/kafka/record_batch.h"
#include "broker/kafka/wire.h"
#include "gtest/gtest.h"

namespace chronik::kafka {
namespace {

constexpr int kMutationsPerSeed = 400;

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  for (int i = 0; i < kEmbeddedFileCount; ++i) {
    seeds.emplace_back(kEmbeddedFiles[i].bytes);
  }
  for (Compression codec :
       {Compression::kNone, Compression::kGzip, Compression::kSnappy,
        Compression::kLz4, Compression::kZstd}) {
    RecordBatchSpec spec;
    spec.compression = codec;
    std::vector<Record> records(3);
    for (int i = 0; i < 3; ++i) {
      records[i].offset_delta = i;
      records[i].value = std::string(40, static_cast<char>('a' + i));
      records[i].headers.push_back({"h", "v"});
    }
    seeds.push_back(*BuildRecordBatch(spec, records));
  }
  return seeds;
}

std::string Mutate(const std::string& seed, const std::string& other,
                   TestRng& rng) {
  std::string s = seed;
  const int steps = 1 + static_cast<int>(rng.Below(4));
  for (int step = 0; step < steps; ++step) {
    const size_t at = s.empty() ? 0 : rng.Below(s.size());
    switch (rng.Below(6)) {
      case 0:  // truncate
        s.resize(at);
        break;
      case 1:  // flip a bit
        if (!s.empty()) s[at] = static_cast<char>(s[at] ^ (1 << rng.Below(8)));
        break;
      case 2: {  // interesting byte
        static constexpr char kBytes[] = {0, 1, 0x7f, '\x80', '\xff', 2};
        if (!s.empty()) s[at] = kBytes[rng.Below(sizeof(kBytes))];
        break;
      }
      case 3:  // delete a byte
        if (!s.empty()) s.erase(at, 1);
        break;
      case 4:  // insert bytes
        s.insert(at, rng.String(3));
        break;
      case 5:  // splice in part of another seed
        if (!other.empty()) {
          const size_t from = rng.Below(other.size());
          s.insert(at, other.substr(from, rng.Below(16)));
        }
        break;
    }
  }
  return s;
}

TEST(FuzzTest, SeedsThemselvesPass) {
  for (const std::string& seed : Seeds()) {
    FuzzOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
  }
}

TEST(FuzzTest, SeededMutationsNeverCrash) {
  const std::vector<std::string> seeds = Seeds();
  TestRng rng(0xC0DEC);
  int runs = 0;
  for (size_t i = 0; i < seeds.size(); ++i) {
    const std::string& other = seeds[(i + 1) % seeds.size()];
    for (int m = 0; m < kMutationsPerSeed; ++m) {
      const std::string input = Mutate(seeds[i], other, rng);
      FuzzOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                   input.size());
      ++runs;
    }
  }
  EXPECT_EQ(runs, static_cast<int>(seeds.size()) * kMutationsPerSeed);
}

}  // namespace
}  // namespace chronik::kafka
