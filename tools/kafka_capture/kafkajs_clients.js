// Drives kafkajs 2.2 (pure JavaScript, non-flexible versions only) against
// capture.py ("capture": record requests, most time out) or codec_server
// ("roundtrip": produce then consume through a group, fail on mismatch).
// Usage: NODE_PATH=<dir with kafkajs> node kafkajs_clients.js BROKER MODE
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const [broker, mode] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: mode === 'capture' ? 'kafkajs' : 'kafkajs-roundtrip',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  retry: { retries: mode === 'capture' ? 0 : 3 },
  requestTimeout: mode === 'capture' ? 2000 : 10000,
  connectionTimeout: 2000,
});

async function quietly(fn) {
  try { await fn(); } catch (e) { console.error('ignored:', e.message); }
}

async function capture() {
  const producer = kafka.producer();
  await quietly(async () => {
    await producer.connect();
    await producer.send({
      topic: 'test', compression: CompressionTypes.GZIP,
      messages: [{ key: 'key-1', value: 'kafkajs value '.repeat(20),
                   headers: { trace: 'js' } }],
    });
  });
  await quietly(() => producer.disconnect());
  const admin = kafka.admin();
  await quietly(async () => {
    await admin.connect();
    await quietly(() => admin.createTopics({
      topics: [{ topic: 'jstopic', numPartitions: 3, replicationFactor: 1,
                 configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    }));
    await quietly(() => admin.describeConfigs({
      resources: [{ type: 2, name: 'test' }], includeSynonyms: false }));
    await quietly(() => admin.deleteTopics({ topics: ['jstopic'] }));
  });
  await quietly(() => admin.disconnect());
  const consumer = kafka.consumer({ groupId: 'jsgroup', sessionTimeout: 6000 });
  await quietly(async () => {
    await consumer.connect();
    await consumer.subscribe({ topic: 'test', fromBeginning: true });
    await Promise.race([consumer.run({ eachMessage: async () => {} }),
                        new Promise((r) => setTimeout(r, 4000))]);
  });
  await quietly(() => consumer.disconnect());
}

async function roundtrip() {
  const producer = kafka.producer();
  await producer.connect();
  const values = [0, 1, 2, 3].map((i) => `kafkajs ${i} `.repeat(10));
  await producer.send({ topic: 'jstopic', compression: CompressionTypes.GZIP,
                        messages: values.map((v) => ({ key: 'k', value: v })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'jsgroup', sessionTimeout: 10000,
                                    heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'jstopic', fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only got ${got.length}`)), 20000);
    consumer.run({ eachMessage: async ({ message }) => {
      got.push(message.value.toString());
      if (got.length === values.length) { clearTimeout(timer); resolve(); }
    } });
  });
  await consumer.disconnect();
  if (JSON.stringify(got) !== JSON.stringify(values)) {
    throw new Error('mismatch: ' + JSON.stringify(got));
  }
  console.log('kafkajs round trip ok');
}

(mode === 'capture' ? capture() : roundtrip()).then(
  () => process.exit(0), (e) => { console.error(e); process.exit(1); });
