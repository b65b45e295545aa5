// kafkajs 2.2.4's admin.deleteTopicRecords against chronik-server. Run by
// delete_records_test.py as: node delete_records.js BOOTSTRAP PHASE TOPIC.
//   before: creates TOPIC (1 partition), produces d0..d29 (offsets 0..29),
//           deletes the records below offset 12; the low watermark is 12,
//           a new group reading from the beginning starts at 12, and so does
//           a group whose committed offset (5) is below the log start (its
//           fetch answers OFFSET_OUT_OF_RANGE and it resets to the earliest).
//   after:  (the broker restarted) the low watermark is still 12 and a new
//           group starts there.
// Exits non-zero on the first failed check, printing what was seen.
'use strict';
const assert = require('assert');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, phase, topic] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'chronik-e2e-delete',
  brokers: [bootstrap],
  logLevel: logLevel.ERROR,
  retry: { initialRetryTime: 50, retries: 20 },
});

// The first `n` records a new member of `groupId` reads.
async function firstRecords(groupId, n) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000,
                                    heartbeatInterval: 300,
                                    maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
        `timeout: ${JSON.stringify(got)} from ${topic}`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.push({ offset: Number(message.offset),
                   value: message.value.toString() });
        if (got.length >= n) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return got.slice(0, n);
}

async function lowAndHigh(admin) {
  const offsets = await admin.fetchTopicOffsets(topic);
  assert.strictEqual(offsets.length, 1);
  return [offsets[0].low, offsets[0].high];
}

const expected = [];
for (let i = 12; i < 30; i++) expected.push({ offset: i, value: `d${i}` });

async function before() {
  const admin = kafka.admin();
  await admin.connect();
  assert.strictEqual(await admin.createTopics({
    topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }), true);
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < 30; i++) messages.push({ value: `d${i}` });
  for (let i = 0; i < 30; i += 10) {
    const result = await producer.send({ topic, acks: -1,
                                         messages: messages.slice(i, i + 10) });
    assert.strictEqual(result[0].errorCode, 0);
  }
  await producer.disconnect();
  assert.deepStrictEqual(await lowAndHigh(admin), ['0', '30']);

  await admin.deleteTopicRecords({ topic,
                                   partitions: [{ partition: 0, offset: '12' }] });
  assert.deepStrictEqual(await lowAndHigh(admin), ['12', '30']);
  assert.deepStrictEqual(await firstRecords('dr-new-before', 18), expected);

  // A group whose committed offset is below the new log start.
  await admin.setOffsets({ groupId: 'dr-behind', topic,
                           partitions: [{ partition: 0, offset: '5' }] });
  assert.deepStrictEqual(await firstRecords('dr-behind', 18), expected);
  await admin.disconnect();
}

async function after() {
  const admin = kafka.admin();
  await admin.connect();
  assert.deepStrictEqual(await lowAndHigh(admin), ['12', '30']);
  assert.deepStrictEqual(await firstRecords('dr-new-after', 18), expected);
  await admin.disconnect();
}

(async () => {
  try {
    await { before, after }[phase]();
    console.log(`ok   delete_records ${phase}`);
    process.exit(0);
  } catch (error) {
    console.log(`FAIL delete_records ${phase}: ${error && error.stack || error}`);
    process.exit(1);
  }
})();
