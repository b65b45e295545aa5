// kafkajs 2.2.4 over an SSL listener with a client certificate. Run by
// tls_test.py as: node tls.js BOOTSTRAP TOPIC CA CERT KEY
// Produces three messages and consumes them back; exits non-zero on failure.
'use strict';
const assert = require('assert');
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, ca, cert, key] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'chronik-e2e-tls',
  brokers: [bootstrap],
  logLevel: logLevel.NOTHING,
  ssl: {
    ca: [fs.readFileSync(ca, 'utf-8')],
    cert: fs.readFileSync(cert, 'utf-8'),
    key: fs.readFileSync(key, 'utf-8'),
  },
  retry: { initialRetryTime: 100, retries: 8 },
});

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }],
                             waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: ['a', 'b', 'c'].map(
      (value) => ({ value, partition: 0 })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `g-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got only ${got}`)),
                             30000);
    consumer.run({ eachMessage: async ({ message }) => {
      got.push(message.value.toString());
      if (got.length === 3) {
        clearTimeout(timer);
        resolve();
      }
    } });
  });
  await consumer.disconnect();
  assert.deepStrictEqual(got, ['a', 'b', 'c']);
  console.log('kafkajs over TLS: ok');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
