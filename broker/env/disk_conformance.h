// One conformance suite for every env::Disk implementation.
//
// The suite checks the parts of the Disk contract (broker/env/disk.h) that
// hold without a crash: read-your-writes, positional writes, truncation,
// errors for missing files and bad paths, sorted listings, rename replacing
// its target, directory operations. Crash behaviour is the simulated disk's
// own test (sim/disk/sim_disk_test.cc); the POSIX disk cannot be crashed from
// a test.
//
// Use: link :disk_conformance into a test and instantiate the suite in
// namespace chronik::env with a factory that makes a fresh, empty disk:
// clang-format off
//   INSTANTIATE_TEST_SUITE_P(Posix, DiskConformanceTest,
//       ::testing::Values(DiskFactory{"posix", [] { return MakeHarness(); }}),
//       DiskFactoryName);
// clang-format on
#ifndef CHRONIK_BROKER_ENV_DISK_CONFORMANCE_H_
#define CHRONIK_BROKER_ENV_DISK_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <string>

#include "broker/env/disk.h"
#include "gtest/gtest.h"

namespace chronik::env {

// Owns one empty disk (and whatever it needs: a temp dir, a generator).
class DiskHarness {
 public:
  virtual ~DiskHarness() = default;
  virtual Disk* disk() = 0;
};

struct DiskFactory {
  std::string name;
  std::function<std::unique_ptr<DiskHarness>()> make;
};

std::string DiskFactoryName(const ::testing::TestParamInfo<DiskFactory>& info);

class DiskConformanceTest : public ::testing::TestWithParam<DiskFactory> {
 protected:
  void SetUp() override;
  Disk& disk() { return *harness_->disk(); }

 private:
  std::unique_ptr<DiskHarness> harness_;
};

}  // namespace chronik::env

#endif  // CHRONIK_BROKER_ENV_DISK_CONFORMANCE_H_
