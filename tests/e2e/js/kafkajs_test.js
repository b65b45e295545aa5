// kafkajs 2.2.4 (no flexible versions) against chronik-server. Run by
// kafkajs_test.py with the broker's bootstrap address as argv[2]. Exits
// non-zero on the first failed check, printing what was seen.
'use strict';
const assert = require('assert');
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const bootstrap = process.argv[2];
const kafka = new Kafka({
  clientId: 'chronik-e2e',
  brokers: [bootstrap],
  logLevel: logLevel.WARN,
  retry: { initialRetryTime: 50, retries: 20 },
});
const suffix = Date.now() % 100000;

async function consumeN(groupId, topic, n, fromBeginning = true) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000,
                                    heartbeatInterval: 300, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
        `timeout: ${got.length}/${n} from ${topic}`)), 30000);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, offset: Number(message.offset),
                   value: message.value.toString() });
        if (got.length >= n) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return got;
}

const tests = {
  async adminCreateDescribeDelete() {
    const admin = kafka.admin();
    await admin.connect();
    const topic = `js-admin-${suffix}`;
    assert.strictEqual(await admin.createTopics({
      topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }), true);
    assert.ok((await admin.listTopics()).includes(topic));
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.strictEqual(meta.topics[0].partitions.length, 3);
    await admin.deleteTopics({ topics: [topic] });
    for (let i = 0; i < 50 && (await admin.listTopics()).includes(topic); i++) {
      await new Promise(r => setTimeout(r, 100));
    }
    assert.ok(!(await admin.listTopics()).includes(topic), 'topic not deleted');
    await admin.disconnect();
  },

  async produceAcksAndGzipThenConsume() {
    const admin = kafka.admin();
    await admin.connect();
    const topic = `js-produce-${suffix}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }],
                               waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const sent = [];
    for (const [acks, compression] of [[-1, CompressionTypes.None],
                                       [1, CompressionTypes.GZIP],
                                       [-1, CompressionTypes.GZIP]]) {
      const messages = [];
      for (let i = 0; i < 20; i++) messages.push({ value: `a${acks}c${compression}-${i}` });
      const result = await producer.send({ topic, acks, compression, messages });
      assert.strictEqual(result[0].errorCode, 0);
      sent.push(...messages.map(m => m.value));
    }
    await producer.disconnect();
    const got = await consumeN(`js-g-${suffix}`, topic, sent.length);
    assert.deepStrictEqual(got.map(m => m.value), sent);
    assert.deepStrictEqual(got.map(m => m.offset), sent.map((_, i) => i));
    await admin.disconnect();
  },

  async idempotentProducer() {
    const admin = kafka.admin();
    await admin.connect();
    const topic = `js-idem-${suffix}`;
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let batch = 0; batch < 5; batch++) {
      const result = await producer.send({ topic, acks: -1, messages:
        [0, 1, 2, 3].map(i => ({ value: `i${batch}-${i}` })) });
      assert.strictEqual(result[0].errorCode, 0);
      assert.strictEqual(result[0].baseOffset, String(batch * 4));
    }
    await producer.disconnect();
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.strictEqual(offsets[0].high, '20');
    await admin.disconnect();
  },

  async offsetsByTimestampAndSeek() {
    const admin = kafka.admin();
    await admin.connect();
    const topic = `js-time-${suffix}`;
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const base = Date.now() - 100000;
    await producer.send({ topic, messages: [0, 1, 2, 3, 4].map(i => ({
      value: `t${i}`, timestamp: String(base + 1000 * i) })) });
    await producer.disconnect();
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, base + 2500);
    assert.strictEqual(byTime[0].offset, '3');
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.strictEqual(offsets[0].high, '5');
    assert.strictEqual(offsets[0].low, '0');
    // Committed offsets of a group, set through the admin client.
    const groupId = `js-seek-${suffix}`;
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }] });
    const fetched = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.strictEqual(fetched[0].partitions[0].offset, '2');
    const got = await consumeN(groupId, topic, 3, false);
    assert.deepStrictEqual(got.map(m => m.value), ['t2', 't3', 't4']);
    await admin.disconnect();
  },

  async groupOfTwoSharesPartitions() {
    const admin = kafka.admin();
    await admin.connect();
    const topic = `js-group-${suffix}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }],
                               waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    for (let p = 0; p < 4; p++) {
      await producer.send({ topic, messages: [0, 1, 2, 3, 4].map(i => ({
        partition: p, value: `p${p}-${i}` })) });
    }
    await producer.disconnect();
    const groupId = `js-two-${suffix}`;
    const seen = [];
    const members = [0, 1].map(() => kafka.consumer({
      groupId, sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 100 }));
    const assigned = [new Set(), new Set()];
    for (const [i, c] of members.entries()) {
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async ({ partition, message }) => {
        assigned[i].add(partition);
        seen.push(`${partition}:${message.offset}`);
      } });
    }
    for (let i = 0; i < 300 && new Set(seen).size < 20; i++) {
      await new Promise(r => setTimeout(r, 100));
    }
    assert.strictEqual(new Set(seen).size, 20, `saw ${seen.length}`);
    for (const c of members) await c.disconnect();
    await admin.disconnect();
  },
};

(async () => {
  let failed = 0;
  for (const [name, test] of Object.entries(tests)) {
    const start = Date.now();
    try {
      await test();
      console.log(`ok   ${name} (${Date.now() - start} ms)`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${name}: ${error && error.stack || error}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
