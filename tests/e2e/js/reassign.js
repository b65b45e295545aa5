// kafkajs 2.2.4's partition reassignment admin calls against a chronik
// cluster. Run by reassign_test.py: argv[2] bootstrap, argv[3] topic,
// argv[4] the target replicas of partition 0 ("3,2"). Moves the partition,
// waits until ListPartitionReassignments shows nothing moving, checks the
// error cases, and prints one JSON line of what it saw. Exits non-zero on a
// failed check.
'use strict';
const assert = require('assert');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, targetText] = process.argv.slice(2);
const target = targetText.split(',').map(Number);
const kafka = new Kafka({
  clientId: 'chronik-e2e-reassign',
  brokers: bootstrap.split(','),
  logLevel: logLevel.NOTHING,
  retry: { initialRetryTime: 50, retries: 5 },
});

async function expectError(promise, type) {
  try {
    await promise;
  } catch (e) {
    const errors = e.errors || [e];
    const types = errors.map((x) => x.type || x.name);
    assert(types.includes(type), `wanted ${type}, got ${JSON.stringify(types)}`);
    return;
  }
  assert.fail(`wanted ${type}, the call succeeded`);
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  const seen = {};
  await admin.alterPartitionReassignments({
    topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: target }] }],
  });
  const listed = await admin.listPartitionReassignments({});
  seen.ongoing = listed.topics;
  const deadline = Date.now() + 30000;
  for (;;) {
    const now = await admin.listPartitionReassignments({});
    if (now.topics.length === 0) break;
    assert(Date.now() < deadline, `still moving: ${JSON.stringify(now)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  seen.doneAfterMs = 30000 - (deadline - Date.now());
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  seen.replicas = metadata.topics[0].partitions[0].replicas;
  assert.deepStrictEqual(seen.replicas, target);
  await expectError(admin.alterPartitionReassignments({
    topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [target[0], 99] }] }],
  }), 'INVALID_REPLICA_ASSIGNMENT');
  await expectError(admin.alterPartitionReassignments({
    topics: [{ topic, partitionAssignment: [{ partition: 5, replicas: target }] }],
  }), 'UNKNOWN_TOPIC_OR_PARTITION');
  await admin.disconnect();
  console.log(JSON.stringify(seen));
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
