// Moves one partition with kafkajs 2.2.4's alterPartitionReassignments (what
// kafka-reassign-partitions.sh --execute sends: AlterPartitionReassignments)
// and waits until listPartitionReassignments shows nothing moving. Run by
// membership_test.py: argv[2] bootstrap, argv[3] topic, argv[4] partition,
// argv[5] the target replicas ("4,2,3"). Prints one JSON line of what it
// saw; exits non-zero on a failed check.
'use strict';
const assert = require('assert');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, partitionText, targetText] = process.argv.slice(2);
const partition = Number(partitionText);
const target = targetText.split(',').map(Number);
const kafka = new Kafka({
  clientId: 'chronik-e2e-move-partition',
  brokers: bootstrap.split(','),
  logLevel: logLevel.NOTHING,
  retry: { initialRetryTime: 100, retries: 8 },
});

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  const seen = {};
  await admin.alterPartitionReassignments({
    topics: [{ topic, partitionAssignment: [{ partition, replicas: target }] }],
  });
  const deadline = Date.now() + 30000;
  for (;;) {
    const now = await admin.listPartitionReassignments({});
    if (now.topics.length === 0) break;
    seen.ongoing = now.topics;
    assert(Date.now() < deadline, `still moving: ${JSON.stringify(now)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  seen.doneAfterMs = 30000 - (deadline - Date.now());
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const found = metadata.topics[0].partitions.find(
    (p) => p.partitionId === partition);
  seen.replicas = found.replicas;
  assert.deepStrictEqual(seen.replicas, target);
  await admin.disconnect();
  console.log(JSON.stringify(seen));
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
