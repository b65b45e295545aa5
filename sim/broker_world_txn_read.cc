// The read_committed consumer of the broker scenario's transactions stream:
// from the start of the run it tails every partition of "t" with Fetch
// isolation_level 1 (read_committed) and filters as a Kafka client does:
// control batches are skipped (each marker is reported to the TxnChecker);
// a transactional batch of producer P is dropped while P is in the aborted
// set, which takes P at the first offset of an entry of the response's
// aborted-transactions list and releases it at P's abort marker. After the
// transactional producer stopped, it reads every partition again from its
// start to its end with nothing open (last stable offset = high watermark),
// then the TxnChecker judges the run (ABORTED READ, TORN TXN).
#include <algorithm>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/messages.h"
#include "broker/kafka/record_batch.h"
#include "sim/broker_world.h"
#include "sim/broker_world_call.h"

namespace chronik::sim {
namespace {

namespace error = kafka::error;

constexpr Nanos kTxnPoll = 30 * kMillisecond;

// A control record's key: version (int16), type (int16: 0 abort, 1 commit);
// -1 when it is none.
int MarkerType(const kafka::Record& record) {
  if (!record.key.has_value() || record.key->size() < 4) return -1;
  const auto byte = [&](int i) {
    return static_cast<unsigned char>((*record.key)[i]);
  };
  return static_cast<int16_t>((byte(2) << 8) | byte(3));
}

}  // namespace

void BrokerWorld::TxnReadAct(SimClient& client) {
  if (client.need_metadata) {
    RequestMetadata(client);
    return;
  }
  TxnClientState& t = client.txn;
  const int partition = t.next_partition;
  const int leader = client.leaders[partition];
  if (leader <= 0) {
    client.need_metadata = true;
    ActLater(client, kTxnPoll);
    return;
  }
  kafka::FetchRequest request;
  request.max_wait_ms = 0;
  request.min_bytes = 0;
  request.isolation_level = 1;
  request.topics.push_back(
      {std::string(kTopic),
       {{partition, -1, t.position[partition], -1, -1, 1 << 20}}});
  Call<kafka::FetchResponse>(
      client, leader, 11, request,
      [this, partition](SimClient& c, const kafka::FetchResponse& response) {
        int16_t code = response.error_code;
        if (code == error::kNone &&
            (response.responses.empty() ||
             response.responses[0].partitions.empty())) {
          code = error::kUnknownTopicOrPartition;
        }
        const auto* p = code == error::kNone
                            ? &response.responses[0].partitions[0]
                            : nullptr;
        if (p != nullptr) code = p->error_code;
        if (code != error::kNone) {
          OnTxnFetchError(c, partition, code,
                          p != nullptr ? p->log_start_offset : -1);
          return;
        }
        if (!TxnReadBatches(c, partition, *p)) return;
        c.txn.high_watermark[partition] = p->high_watermark;
        c.txn.stable[partition] = p->last_stable_offset;
        c.txn.next_partition = (partition + 1) % options_.partitions;
        c.backoff = 0;
        if (TxnReadFinished(c)) return;
        ActLater(c, kTxnPoll);
      });
}

void BrokerWorld::OnTxnFetchError(SimClient& client, int partition,
                                  int16_t code, int64_t log_start) {
  TxnClientState& t = client.txn;
  if (code == error::kOffsetOutOfRange && log_start > t.position[partition]) {
    // Retention or DeleteRecords moved the log start past the position.
    t.position[partition] = log_start;
    txn_checker_.OnLogStart(partition, log_start);
    ActLater(client, 0);
    return;
  }
  Record(Trace::kWorld, "txn_fetch_retry",
         {static_cast<uint64_t>(partition), static_cast<uint64_t>(code)},
         [&] { return ErrorName(code); });
  client.need_metadata = true;
  client.backoff = std::clamp<Nanos>(client.backoff * 2, kTxnPoll, kSecond);
  ActLater(client, client.backoff);
}

bool BrokerWorld::TxnReadBatches(SimClient& client, int partition,
                                 const kafka::FetchResponse::PartitionData& p) {
  int64_t& position = client.txn.position[partition];
  absl::StatusOr<std::vector<kafka::RecordBatchView>> batches =
      kafka::ParseRecordBatches(p.records.has_value()
                                    ? absl::string_view(*p.records)
                                    : absl::string_view(),
                                /*allow_partial_tail=*/true);
  if (!batches.ok()) {
    Fail(absl::StrCat("CORRUPT: read_committed partition ", partition, ": ",
                      batches.status().ToString()));
    return false;
  }
  std::vector<kafka::FetchResponse::AbortedTransaction> aborted =
      p.aborted_transactions.value_or(
          std::vector<kafka::FetchResponse::AbortedTransaction>{});
  std::sort(aborted.begin(), aborted.end(), [](const auto& a, const auto& b) {
    return a.first_offset < b.first_offset;
  });
  size_t next_aborted = 0;
  std::set<int64_t> aborted_producers;
  for (const kafka::RecordBatchView& batch : *batches) {
    const kafka::BatchHeader& h = batch.header;
    if (h.last_offset() < position) continue;
    absl::StatusOr<std::vector<kafka::Record>> records =
        kafka::DecodeRecords(batch);
    if (!records.ok()) {
      Fail(absl::StrCat("CORRUPT: read_committed partition ", partition,
                        " batch at offset ", h.base_offset, ": ",
                        records.status().ToString()));
      return false;
    }
    position = h.last_offset() + 1;
    // As Kafka's consumer: the aborted transactions starting at or before
    // this batch first, then its abort marker (which may be this batch) ends
    // one (seed 897 with 5 brokers: an aborted transaction that started
    // before the fetch offset was taken in only at its producer's next data
    // batch, after its marker, and a committed one's records were dropped).
    while (next_aborted < aborted.size() &&
           aborted[next_aborted].first_offset <= h.last_offset()) {
      aborted_producers.insert(aborted[next_aborted++].producer_id);
    }
    if (h.is_control()) {
      const int type = records->empty() ? -1 : MarkerType(records->front());
      if (type == 0 || type == 1) {
        txn_checker_.OnMarker(partition, h.base_offset, h.producer_id,
                              type == 1);
      }
      if (type == 0) aborted_producers.erase(h.producer_id);
      continue;
    }
    if (!h.is_transactional()) continue;
    const bool skip = aborted_producers.count(h.producer_id) > 0;
    for (const kafka::Record& record : *records) {
      const int64_t offset = h.base_offset + record.offset_delta;
      const std::string value = record.value.value_or("");
      txn_checker_.OnLogRecord(partition, offset, h.producer_id, value);
      if (!skip) txn_checker_.OnDelivered(partition, offset, value);
    }
  }
  return true;
}

bool BrokerWorld::TxnReadFinished(SimClient& client) {
  TxnClientState& t = client.txn;
  const SimClient& producer = clients_[txn_producer_];
  if (!producer.done) return false;
  if (!t.final_pass) {
    // From here on, only answers to Fetches sent after the producer stopped,
    // reading again from the log start: the final read is the one judged
    // for torn transactions (it crosses markers compaction removed).
    t.final_pass = true;
    std::fill(t.position.begin(), t.position.end(), 0);
    txn_checker_.StartFinalRead();
    std::fill(t.high_watermark.begin(), t.high_watermark.end(), -1);
    std::fill(t.stable.begin(), t.stable.end(), -1);
    return false;
  }
  for (int p = 0; p < options_.partitions; ++p) {
    if (t.high_watermark[p] < 0 || t.position[p] < t.high_watermark[p] ||
        t.stable[p] != t.high_watermark[p]) {
      return false;
    }
  }
  client.done = true;
  Record(Trace::kWorld, "txn_read_done", {txn_checker_.delivered()});
  if (std::optional<std::string> anomaly = txn_checker_.Check()) {
    Fail(*anomaly);
    return true;
  }
  Finish();
  return true;
}

std::string BrokerWorld::TxnLivenessProblem() const {
  if (txn_producer_ < 0) return "";
  const SimClient& producer = clients_[txn_producer_];
  if (!producer.done) {
    return absl::StrCat("LIVENESS: the transactional producer did not stop: ",
                        producer.txn.name, " at stage ",
                        static_cast<int>(producer.txn.stage));
  }
  const SimClient& consumer = clients_[txn_producer_ + 1];
  if (consumer.done) return "";
  for (int p = 0; p < options_.partitions; ++p) {
    if (consumer.txn.position[p] < consumer.txn.high_watermark[p] ||
        consumer.txn.stable[p] != consumer.txn.high_watermark[p]) {
      return absl::StrCat(
          "LIVENESS: read_committed did not reach the end of partition ", p,
          ": position ", consumer.txn.position[p], ", last stable offset ",
          consumer.txn.stable[p], ", high watermark ",
          consumer.txn.high_watermark[p]);
    }
  }
  return "LIVENESS: read_committed did not finish";
}

}  // namespace chronik::sim
