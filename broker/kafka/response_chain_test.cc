// EncodeResponseChain (a splicing Writer): a Fetch response whose records are
// several shared parts encodes to the very bytes of the contiguous encoding,
// with the large parts shared, not copied.
#include <memory>
#include <string>
#include <vector>

#include "base/byte_chain.h"
#include "broker/kafka/protocol.h"
#include "gtest/gtest.h"

namespace chronik::kafka {
namespace {

// One buffer, as storage reads a chunk, and slices of it with gaps between
// (the record headers storage keeps between batches).
struct Stored {
  std::shared_ptr<const std::string> buffer;
  std::vector<SharedBytes> parts;
};

Stored MakeStored(const std::vector<size_t>& sizes) {
  std::string all;
  std::vector<std::pair<size_t, size_t>> at;
  for (size_t i = 0; i < sizes.size(); ++i) {
    all.append(48, '#');  // a gap
    at.push_back({all.size(), sizes[i]});
    for (size_t j = 0; j < sizes[i]; ++j) {
      all.push_back(static_cast<char>('a' + (i * 7 + j) % 26));
    }
  }
  Stored stored;
  stored.buffer = std::make_shared<const std::string>(std::move(all));
  const std::string_view whole(*stored.buffer);
  for (const auto& [pos, size] : at) {
    stored.parts.push_back(
        SharedBytes::Slice(stored.buffer, whole.substr(pos, size)));
  }
  return stored;
}

FetchResponse MakeResponse(const std::vector<ByteChain>& records) {
  FetchResponse response;
  response.throttle_time_ms = 3;
  response.session_id = 9;
  FetchResponse::FetchableTopicResponse topic;
  topic.topic = "t";
  for (size_t i = 0; i < records.size(); ++i) {
    FetchResponse::PartitionData p;
    p.partition_index = static_cast<int32_t>(i);
    p.high_watermark = 100 + static_cast<int64_t>(i);
    p.last_stable_offset = 90;
    p.log_start_offset = 1;
    p.aborted_transactions.emplace();
    p.aborted_transactions->push_back({5, 6});
    p.records = records[i];
    topic.partitions.push_back(std::move(p));
  }
  response.responses.push_back(std::move(topic));
  return response;
}

// The same response with every partition's records joined into one copy.
FetchResponse Joined(FetchResponse response) {
  for (auto& topic : response.responses) {
    for (auto& p : topic.partitions) {
      if (p.records.has_value()) p.records = ByteChain(p.records->Flatten());
    }
  }
  return response;
}

bool SharesAny(const ByteChain& chain, const SharedBytes& part) {
  for (const SharedBytes& got : chain.parts()) {
    if (got.SharesBufferWith(part) && got.data() == part.data() &&
        got.size() == part.size()) {
      return true;
    }
  }
  return false;
}

TEST(ResponseChainTest, SlicedRecordsEncodeAsTheContiguousBytes) {
  // Large parts (spliced), small ones (copied), an empty partition.
  const Stored stored = MakeStored({5000, 10, 70000, 1023, 1024, 3});
  ByteChain first;
  first.Append(stored.parts[0]);
  first.Append(stored.parts[1]);
  first.Append(stored.parts[2]);
  ByteChain second;
  second.Append(stored.parts[3]);
  second.Append(stored.parts[4]);
  second.Append(stored.parts[5]);
  const FetchResponse response = MakeResponse({first, ByteChain(), second});
  for (int16_t version : {0, 4, 7, 11, 12, 13}) {
    SCOPED_TRACE(version);
    RequestHeader header;
    header.api_key = FetchResponse::kApiKey;
    header.api_version = version;
    header.correlation_id = 77;
    const ByteChain chain = EncodeResponseChain(header, response);
    const std::string want = EncodeResponseFrame(header, Joined(response));
    EXPECT_EQ(chain.size(), want.size());
    EXPECT_EQ(chain.Flatten(), want);
    // The parts of at least Writer::kMinSplicedBytes are the stored bytes.
    EXPECT_TRUE(SharesAny(chain, stored.parts[0]));
    EXPECT_TRUE(SharesAny(chain, stored.parts[2]));
    EXPECT_TRUE(SharesAny(chain, stored.parts[4]));
    EXPECT_FALSE(SharesAny(chain, stored.parts[3]));
    // It decodes as what was encoded.
    FetchResponse decoded;
    int32_t correlation = 0;
    const std::string flat = chain.Flatten();
    ASSERT_TRUE(
        DecodeResponseFrame(absl::string_view(flat).substr(kFrameSizeBytes),
                            version, &correlation, &decoded)
            .ok());
    EXPECT_EQ(correlation, 77);
    EXPECT_EQ(decoded.responses.at(0).partitions.at(0).records->Flatten(),
              first.Flatten());
    EXPECT_EQ(decoded.responses.at(0).partitions.at(2).records->Flatten(),
              second.Flatten());
  }
}

TEST(ResponseChainTest, ResponsesWithoutLargeRecordsAreOnePart) {
  RequestHeader header;
  header.api_key = FetchResponse::kApiKey;
  header.api_version = 13;
  const FetchResponse response = MakeResponse({ByteChain("small")});
  const ByteChain chain = EncodeResponseChain(header, response);
  EXPECT_EQ(chain.parts().size(), 1u);
  EXPECT_EQ(chain.Flatten(), EncodeResponseFrame(header, response));
}

TEST(ResponseChainTest, ANonSplicingWriterCopiesEveryPart) {
  const Stored stored = MakeStored({4096, 4096});
  ByteChain records;
  records.Append(stored.parts[0]);
  records.Append(stored.parts[1]);
  Writer w;
  w.WriteRecords(records, /*compact=*/true);
  EXPECT_EQ(w.size(), w.buffer().size());
  EXPECT_EQ(w.buffer().substr(w.buffer().size() - 8192), records.Flatten());
}

}  // namespace
}  // namespace chronik::kafka
