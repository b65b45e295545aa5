// Round trip of proto/raft.proto's RaftTransport over real gRPC on loopback: a
// server on 127.0.0.1 port 0 receives a client stream of message batches, and
// the test checks that every message arrived intact and in order.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/raft.grpc.pb.h"

namespace chronik::runtime {
namespace {

using ::chronik::raftpb::Entry;
using ::chronik::raftpb::Message;
using ::chronik::raftpb::MessageBatch;
using ::chronik::raftpb::RaftTransport;
using ::chronik::raftpb::SendAck;

// Collects every batch it receives; gRPC calls it on its own threads.
class CollectingTransport final : public RaftTransport::Service {
 public:
  grpc::Status Send(grpc::ServerContext* /*context*/,
                    grpc::ServerReader<MessageBatch>* reader,
                    SendAck* ack) override {
    MessageBatch batch;
    while (reader->Read(&batch)) {
      ack->set_batches_received(ack->batches_received() + 1);
      ack->set_messages_received(ack->messages_received() +
                                 batch.messages_size());
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(batch);
    }
    return grpc::Status::OK;
  }

  std::vector<MessageBatch> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  std::mutex mu_;
  std::vector<MessageBatch> received_;  // guarded by mu_
};

MessageBatch MakeBatch(uint64_t first_index, int message_count) {
  MessageBatch batch;
  batch.set_from_node(1);
  batch.set_to_node(2);
  for (int i = 0; i < message_count; ++i) {
    Message* message = batch.add_messages();
    message->set_group_id(7);
    message->set_type(chronik::raftpb::MSG_APPEND);
    message->set_from(1);
    message->set_to(2);
    message->set_term(3);
    message->set_index(first_index + i);
    message->set_log_term(3);
    message->set_commit(first_index);
    Entry* entry = message->add_entries();
    entry->set_term(3);
    entry->set_index(first_index + i + 1);
    entry->set_data(std::string(100 + i, static_cast<char>('a' + i % 26)));
  }
  return batch;
}

TEST(RaftTransportRoundTrip, StreamOfBatchesArrivesInOrder) {
  CollectingTransport service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);

  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  auto stub = RaftTransport::NewStub(channel);
  grpc::ClientContext context;
  SendAck ack;
  std::unique_ptr<grpc::ClientWriter<MessageBatch>> writer =
      stub->Send(&context, &ack);
  std::vector<MessageBatch> sent = {MakeBatch(10, 3), MakeBatch(13, 5),
                                    MakeBatch(18, 1)};
  for (const MessageBatch& batch : sent) ASSERT_TRUE(writer->Write(batch));
  ASSERT_TRUE(writer->WritesDone());
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_EQ(ack.batches_received(), 3u);
  EXPECT_EQ(ack.messages_received(), 9u);
  std::vector<MessageBatch> received = service.received();
  ASSERT_EQ(received.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(received[i].SerializeAsString(), sent[i].SerializeAsString())
        << "batch " << i;
  }
  EXPECT_EQ(received[1].messages(4).entries(0).data(), std::string(104, 'e'));
  server->Shutdown();
}

}  // namespace
}  // namespace chronik::runtime
