#include "broker/storage/write_buffer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace chronik::storage {
namespace {

// Keeps what each AppendV was given: the pieces' addresses and bytes.
class RecordingFile final : public env::File {
 public:
  uint64_t Size() const override { return bytes_.size(); }
  absl::Status Append(absl::string_view data) override {
    if (fail_) return absl::UnavailableError("injected");
    bytes_.append(data.data(), data.size());
    ++appends_;
    return absl::OkStatus();
  }
  absl::Status AppendV(absl::Span<const absl::string_view> pieces) override {
    if (fail_) return absl::UnavailableError("injected");
    for (absl::string_view piece : pieces) {
      piece_addresses_.push_back(piece.data());
      bytes_.append(piece.data(), piece.size());
    }
    ++appendvs_;
    return absl::OkStatus();
  }
  absl::Status WriteAt(uint64_t, absl::string_view) override {
    return absl::UnimplementedError("not used");
  }
  absl::StatusOr<size_t> ReadAt(uint64_t, size_t, char*) const override {
    return absl::UnimplementedError("not used");
  }
  absl::Status Truncate(uint64_t) override {
    return absl::UnimplementedError("not used");
  }
  absl::Status Sync() override { return absl::OkStatus(); }

  std::string bytes_;
  std::vector<const char*> piece_addresses_;
  int appends_ = 0;
  int appendvs_ = 0;
  bool fail_ = false;
};

TEST(WriteBufferTest, SplicedPartsAreWrittenInPlaceAndInOrder) {
  WriteBuffer buffer;
  SharedBytes first = SharedBytes::Copy("0123456789");
  SharedBytes second = SharedBytes::Copy("abcdefgh");
  const char* first_part = first.data() + 2;
  buffer.owned() += "<h1>";
  buffer.Splice(first, first.absl_view().substr(2));
  buffer.owned() += "<h2>";
  buffer.Splice(second, second.absl_view());
  buffer.Splice(second, second.absl_view().substr(0, 3));
  buffer.owned() += "<end>";
  EXPECT_EQ(buffer.size(), 4u + 8u + 4u + 8u + 3u + 5u);
  EXPECT_EQ(buffer.spliced_bytes(), 19u);
  // The buffer keeps the spliced buffers alive on its own.
  first = SharedBytes();
  second = SharedBytes();

  RecordingFile file;
  ASSERT_TRUE(buffer.WriteTo(file).ok());
  EXPECT_EQ(file.bytes_, "<h1>23456789<h2>abcdefghabc<end>");
  EXPECT_EQ(file.appendvs_, 1);
  // The first spliced piece is the shared buffer itself, not a copy.
  ASSERT_GE(file.piece_addresses_.size(), 2u);
  EXPECT_EQ(file.piece_addresses_[1], first_part);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.spliced_bytes(), 0u);
}

TEST(WriteBufferTest, OwnedBytesAloneGoInOneAppend) {
  WriteBuffer buffer;
  buffer.owned() = "only owned";
  RecordingFile file;
  ASSERT_TRUE(buffer.WriteTo(file).ok());
  EXPECT_EQ(file.bytes_, "only owned");
  EXPECT_EQ(file.appends_, 1);
  EXPECT_EQ(file.appendvs_, 0);
  ASSERT_TRUE(buffer.WriteTo(file).ok());  // empty: writes nothing
  EXPECT_EQ(file.appends_, 1);
}

TEST(WriteBufferTest, AFailedWriteKeepsTheBytes) {
  WriteBuffer buffer;
  SharedBytes payload = SharedBytes::Copy("payload");
  buffer.owned() = "head";
  buffer.Splice(payload, payload.absl_view());
  RecordingFile file;
  file.fail_ = true;
  EXPECT_FALSE(buffer.WriteTo(file).ok());
  EXPECT_EQ(buffer.size(), 11u);
  file.fail_ = false;
  ASSERT_TRUE(buffer.WriteTo(file).ok());
  EXPECT_EQ(file.bytes_, "headpayload");
}

TEST(WriteBufferDeathTest, APartOutsideItsBufferIsABug) {
  WriteBuffer buffer;
  SharedBytes payload = SharedBytes::Copy("payload");
  const std::string elsewhere = "elsewhere";
  EXPECT_DEATH(buffer.Splice(payload, elsewhere), "must lie within");
}

}  // namespace
}  // namespace chronik::storage
