// A single-broker, in-memory Kafka stand-in built only from chronik's codec,
// so real clients (kcat/librdkafka, kafka-python) can judge our response
// encodings: if they can produce and consume through it, they parsed what we
// wrote. Not the broker: one thread, no persistence, one partition per topic,
// a trivial one-member-at-a-time group coordinator.
//
// Usage: codec_server PORT_FILE   (listens on 127.0.0.1, ephemeral port,
// writes the port number to PORT_FILE, serves until killed).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"

namespace chronik::kafka {
namespace {

constexpr int kMaxConnections = 64;
constexpr int32_t kMaxFrameBytes = 64 * 1024 * 1024;

struct Partition {
  std::vector<std::string> batches;  // offsets assigned
  int64_t next_offset = 0;
};

struct Group {
  int32_t generation = 0;
  std::string member_id;
  std::string protocol;
  std::string metadata;
  std::string assignment;
  std::map<std::pair<std::string, int32_t>, int64_t> offsets;
};

class Server {
 public:
  explicit Server(int port) : port_(port) {}

  // Returns the response frame for one request frame payload ("" = none).
  std::string Handle(absl::string_view payload) {
    absl::string_view body;
    absl::StatusOr<RequestHeader> header = DecodeRequestHeader(payload, &body);
    if (!header.ok()) return "";
    if (header->api_key == ApiVersionsRequest::kApiKey) {
      return EncodeApiVersionsResponseFrame(*header);
    }
    absl::StatusOr<DecodedRequest> request = DecodeRequestFrame(payload);
    if (!request.ok()) {
      std::fprintf(stderr, "codec_server: %s\n",
                   request.status().ToString().c_str());
      return "";
    }
    return std::visit([&](auto& r) { return Answer(request->header, r); },
                      request->body);
  }

 private:
  template <typename T>
  std::string Answer(const RequestHeader& h, const T&) {
    std::fprintf(stderr, "codec_server: no answer for key %d v%d\n", h.api_key,
                 h.api_version);
    return "";
  }

  std::string Answer(const RequestHeader& h, const MetadataRequest& r) {
    MetadataResponse out;
    out.brokers.push_back({0, "127.0.0.1", port_, std::nullopt});
    out.cluster_id = "codec-server";
    out.controller_id = 0;
    std::vector<std::string> names;
    if (r.topics.has_value() && !r.topics->empty()) {
      for (const auto& t : *r.topics) names.push_back(t.name.value_or("test"));
    } else {
      names.push_back("test");
    }
    for (const std::string& name : names) {
      partitions_[name];  // auto-create with one partition
      MetadataResponse::MetadataResponseTopic topic;
      topic.name = name;
      topic.topic_id[15] = static_cast<uint8_t>(1 + names.size());
      MetadataResponse::MetadataResponsePartition p;
      p.leader_id = 0;
      p.leader_epoch = 0;
      p.replica_nodes = {0};
      p.isr_nodes = {0};
      topic.partitions.push_back(p);
      out.topics.push_back(topic);
    }
    return EncodeResponseFrame(h, out);
  }

  std::string Answer(const RequestHeader& h, const ProduceRequest& r) {
    ProduceResponse out;
    for (const auto& topic : r.topics) {
      ProduceResponse::TopicProduceResponse t;
      t.name = topic.name;
      for (const auto& partition : topic.partitions) {
        ProduceResponse::PartitionProduceResponse p;
        p.partition_index = partition.partition_index;
        auto it = partitions_.find(topic.name);
        if (it == partitions_.end() || partition.partition_index != 0) {
          p.error_code = error::kUnknownTopicOrPartition;
        } else {
          p.error_code = Append(
              it->second,
              std::string(partition.records.value_or(SharedBytes()).view()),
              &p.base_offset);
          p.log_start_offset = 0;
        }
        t.partitions.push_back(p);
      }
      out.responses.push_back(t);
    }
    if (r.acks == 0) return "";
    return EncodeResponseFrame(h, out);
  }

  // Validates every batch (CRC, records), assigns offsets, stores them.
  int16_t Append(Partition& log, const std::string& records,
                 int64_t* base_offset) {
    absl::StatusOr<std::vector<RecordBatchView>> batches =
        ParseRecordBatches(records);
    if (!batches.ok()) return ProduceErrorCode(batches.status());
    for (const RecordBatchView& batch : *batches) {
      absl::Status decoded = DecodeRecords(batch).status();
      if (!decoded.ok()) return ProduceErrorCode(decoded);
    }
    *base_offset = log.next_offset;
    for (const RecordBatchView& batch : *batches) {
      std::string stored(batch.bytes);
      WriteBaseOffset(absl::MakeSpan(stored), log.next_offset);
      log.next_offset += batch.header.last_offset_delta + 1;
      log.batches.push_back(std::move(stored));
    }
    return 0;
  }

  std::string Answer(const RequestHeader& h, const FetchRequest& r) {
    FetchResponse out;
    for (const auto& topic : r.topics) {
      FetchResponse::FetchableTopicResponse t;
      t.topic = topic.topic;
      for (const auto& partition : topic.partitions) {
        FetchResponse::PartitionData p;
        p.partition_index = partition.partition;
        auto it = partitions_.find(topic.topic);
        if (it == partitions_.end() || partition.partition != 0) {
          p.error_code = error::kUnknownTopicOrPartition;
        } else if (partition.fetch_offset > it->second.next_offset) {
          p.error_code = error::kOffsetOutOfRange;
        } else {
          const Partition& log = it->second;
          p.high_watermark = log.next_offset;
          p.last_stable_offset = log.next_offset;
          p.log_start_offset = 0;
          std::string data;
          for (const std::string& batch : log.batches) {
            absl::StatusOr<RecordBatchView> view = ParseRecordBatch(batch);
            if (view.ok() &&
                view->header.last_offset() >= partition.fetch_offset) {
              data += batch;
            }
          }
          p.records = data;
        }
        t.partitions.push_back(p);
      }
      out.responses.push_back(t);
    }
    return EncodeResponseFrame(h, out);
  }

  std::string Answer(const RequestHeader& h, const ListOffsetsRequest& r) {
    ListOffsetsResponse out;
    for (const auto& topic : r.topics) {
      ListOffsetsResponse::ListOffsetsTopicResponse t;
      t.name = topic.name;
      for (const auto& partition : topic.partitions) {
        ListOffsetsResponse::ListOffsetsPartitionResponse p;
        p.partition_index = partition.partition_index;
        const int64_t end = partitions_[topic.name].next_offset;
        // -2 earliest, -1 latest; timestamps: answer the end.
        const int64_t offset = partition.timestamp == -2 ? 0 : end;
        p.offset = offset;
        p.timestamp = -1;
        p.old_style_offsets = {offset};
        p.leader_epoch = 0;
        t.partitions.push_back(p);
      }
      out.topics.push_back(t);
    }
    return EncodeResponseFrame(h, out);
  }

  std::string Answer(const RequestHeader& h, const InitProducerIdRequest&) {
    InitProducerIdResponse out;
    out.producer_id = 1000 + next_producer_++;
    out.producer_epoch = 0;
    return EncodeResponseFrame(h, out);
  }

  std::string Answer(const RequestHeader& h, const FindCoordinatorRequest& r) {
    FindCoordinatorResponse out;
    out.node_id = 0;
    out.host = "127.0.0.1";
    out.port = port_;
    for (const std::string& key : r.coordinator_keys) {
      out.coordinators.push_back({key, 0, "127.0.0.1", port_, 0, std::nullopt});
    }
    return EncodeResponseFrame(h, out);
  }

  std::string Answer(const RequestHeader& h, const JoinGroupRequest& r) {
    Group& g = groups_[r.group_id];
    JoinGroupResponse out;
    if (r.member_id.empty() && h.api_version >= 4) {
      // KIP-394: hand out a member id and ask the member to join again.
      out.error_code = error::kMemberIdRequired;
      out.member_id = "member-" + std::to_string(++next_member_);
      out.protocol_name = "";
      return EncodeResponseFrame(h, out);
    }
    g.generation++;
    g.member_id = r.member_id.empty()
                      ? "member-" + std::to_string(++next_member_)
                      : r.member_id;
    g.protocol = r.protocols.empty() ? "" : r.protocols[0].name;
    g.metadata = r.protocols.empty() ? "" : r.protocols[0].metadata;
    out.generation_id = g.generation;
    out.protocol_type = r.protocol_type;
    out.protocol_name = g.protocol;
    out.leader = g.member_id;
    out.member_id = g.member_id;
    out.members.push_back({g.member_id, std::nullopt, g.metadata});
    return EncodeResponseFrame(h, out);
  }

  std::string Answer(const RequestHeader& h, const SyncGroupRequest& r) {
    Group& g = groups_[r.group_id];
    for (const auto& a : r.assignments) {
      if (a.member_id == r.member_id) g.assignment = a.assignment;
    }
    SyncGroupResponse out;
    out.protocol_type = "consumer";
    out.protocol_name = g.protocol;
    out.assignment = g.assignment;
    return EncodeResponseFrame(h, out);
  }

  std::string Answer(const RequestHeader& h, const HeartbeatRequest&) {
    return EncodeResponseFrame(h, HeartbeatResponse{});
  }

  std::string Answer(const RequestHeader& h, const LeaveGroupRequest& r) {
    LeaveGroupResponse out;
    for (const auto& m : r.members) {
      out.members.push_back({m.member_id, m.group_instance_id, 0});
    }
    return EncodeResponseFrame(h, out);
  }

  std::string Answer(const RequestHeader& h, const OffsetCommitRequest& r) {
    Group& g = groups_[r.group_id];
    OffsetCommitResponse out;
    for (const auto& topic : r.topics) {
      OffsetCommitResponse::OffsetCommitResponseTopic t;
      t.name = topic.name;
      for (const auto& p : topic.partitions) {
        g.offsets[{topic.name, p.partition_index}] = p.committed_offset;
        t.partitions.push_back({p.partition_index, 0});
      }
      out.topics.push_back(t);
    }
    return EncodeResponseFrame(h, out);
  }

  std::string Answer(const RequestHeader& h, const OffsetFetchRequest& r) {
    OffsetFetchResponse out;
    auto fill = [this](const std::string& group, const std::string& topic,
                       int32_t partition) {
      const auto& offsets = groups_[group].offsets;
      auto it = offsets.find({topic, partition});
      return it == offsets.end() ? int64_t{-1} : it->second;
    };
    if (r.topics.has_value()) {
      for (const auto& topic : *r.topics) {
        OffsetFetchResponse::OffsetFetchResponseTopic t;
        t.name = topic.name;
        for (int32_t p : topic.partition_indexes) {
          t.partitions.push_back(
              {p, fill(r.group_id, topic.name, p), -1, "", 0});
        }
        out.topics.push_back(t);
      }
    }
    for (const auto& group : r.groups) {
      OffsetFetchResponse::OffsetFetchResponseGroup g;
      g.group_id = group.group_id;
      for (const auto& topic : group.topics.value_or(
               std::vector<OffsetFetchRequest::OffsetFetchRequestTopics>{})) {
        OffsetFetchResponse::OffsetFetchResponseTopics t;
        t.name = topic.name;
        for (int32_t p : topic.partition_indexes) {
          t.partitions.push_back(
              {p, fill(group.group_id, topic.name, p), -1, "", 0});
        }
        g.topics.push_back(t);
      }
      out.groups.push_back(g);
    }
    return EncodeResponseFrame(h, out);
  }

  int32_t port_;
  int64_t next_producer_ = 0;
  int64_t next_member_ = 0;
  std::map<std::string, Partition> partitions_;
  std::map<std::string, Group> groups_;
};

int Serve(const char* port_file) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listener, kMaxConnections) != 0) {
    std::perror("codec_server: bind/listen");
    return 1;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  if (FILE* f = std::fopen(port_file, "w")) {
    std::fprintf(f, "%d\n", port);
    std::fclose(f);
  }
  Server server(port);
  std::vector<pollfd> fds = {{listener, POLLIN, 0}};
  std::map<int, std::string> buffers;
  char chunk[1 << 16];
  while (true) {
    if (::poll(fds.data(), fds.size(), -1) < 0) return 1;
    for (size_t i = 0; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      if (fds[i].fd == listener) {
        const int conn = ::accept(listener, nullptr, nullptr);
        if (conn >= 0 && fds.size() < kMaxConnections) {
          fds.push_back({conn, POLLIN, 0});
        }
        continue;
      }
      const int fd = fds[i].fd;
      const ssize_t n = ::read(fd, chunk, sizeof(chunk));
      if (n <= 0) {
        ::close(fd);
        buffers.erase(fd);
        fds.erase(fds.begin() + i);
        --i;
        continue;
      }
      std::string& buffer = buffers[fd];
      buffer.append(chunk, n);
      while (true) {
        absl::StatusOr<size_t> frame =
            CompleteFrameBytes(buffer, kMaxFrameBytes);
        if (!frame.ok() || *frame == 0) break;
        const std::string reply =
            server.Handle(absl::string_view(buffer).substr(
                kFrameSizeBytes, *frame - kFrameSizeBytes));
        buffer.erase(0, *frame);
        for (size_t sent = 0; sent < reply.size();) {
          const ssize_t w =
              ::write(fd, reply.data() + sent, reply.size() - sent);
          if (w <= 0) break;
          sent += static_cast<size_t>(w);
        }
      }
    }
  }
}

}  // namespace
}  // namespace chronik::kafka

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: codec_server PORT_FILE\n");
    return 2;
  }
  return chronik::kafka::Serve(argv[1]);
}
