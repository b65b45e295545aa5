// kafkajs 2.2.4 transactions against chronik-server. Run by
// transactions_test.py as: node transactions.js BOOTSTRAP TOPIC.
// A transactional producer commits (with sendOffsets for a group), aborts,
// and commits again; a read_committed consumer (kafkajs's default) reads
// exactly the committed records, a read_uncommitted one all of them, and the
// group's offset is the one sent in the committed transaction only.
// Exits non-zero on the first failed check, printing what was seen.
'use strict';
const assert = require('assert');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'chronik-e2e-txn',
  brokers: [bootstrap],
  logLevel: logLevel.ERROR,
  retry: { initialRetryTime: 50, retries: 30 },
});

async function readAll(readUncommitted, want) {
  const consumer = kafka.consumer({
    groupId: `reader-${readUncommitted}-${Date.now()}`, readUncommitted,
    sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
        `timeout: ${JSON.stringify(got)}`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value.toString());
        if (got.length >= want) {
          // Wait a little for anything that should not be there.
          setTimeout(() => { clearTimeout(timer); resolve(); }, 1000);
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return got;
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }],
                             waitForLeaders: true });
  const producer = kafka.producer({ transactionalId: `js-${topic}`,
                                    maxInFlightRequests: 1,
                                    idempotent: true });
  await producer.connect();
  const group = `js-group-${topic}`;
  const committed = [];
  const plan = [['c', true, '3'], ['a', false, '9'], ['d', true, '5']];
  for (const [prefix, commit, offset] of plan) {
    const txn = await producer.transaction();
    const messages = [0, 1, 2, 3].map((i) => ({
      value: `${prefix}${i}`, partition: i % 2 }));
    await txn.send({ topic, messages });
    await txn.sendOffsets({ consumerGroupId: group,
                            topics: [{ topic, partitions: [
                              { partition: 0, offset }] }] });
    if (commit) {
      await txn.commit();
      committed.push(...messages.map((m) => m.value));
    } else {
      await txn.abort();
    }
  }
  await producer.disconnect();

  const got = await readAll(false, committed.length);
  assert.deepStrictEqual(got.sort(), committed.sort(),
                         `read_committed saw ${JSON.stringify(got)}`);
  const all = await readAll(true, 12);
  assert.strictEqual(all.length, 12, `read_uncommitted saw ${all}`);
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const p0 = offsets[0].partitions.find((p) => p.partition === 0);
  assert.strictEqual(p0.offset, '5', `committed ${JSON.stringify(offsets)}`);
  await admin.disconnect();
  console.log(`ok: committed ${committed.length}, all ${all.length}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
