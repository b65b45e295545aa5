// kafkajs 2.2.4 SASL against chronik-server. Run by security_test.py as:
// node security.js BOOTSTRAP MECHANISM USER PASSWORD TOPIC ok|fail [CA]
// (with CA, a PEM file: SASL_SSL, the broker's certificate checked against it;
// tls_test.py runs it so).
// ok: logs in with `mechanism` (plain, scram-sha-256, scram-sha-512),
// produces three records to TOPIC and reads them back through a group.
// fail: the admin client's connect must be refused with kafkajs's
// KafkaJSSASLAuthenticationError. Exits non-zero on the first failed check.
'use strict';
const assert = require('assert');
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, mechanism, username, password, topic, expect, ca] =
    process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'chronik-e2e-sasl',
  brokers: [bootstrap],
  logLevel: logLevel.NOTHING,
  sasl: { mechanism, username, password },
  ssl: ca ? { ca: [fs.readFileSync(ca, 'utf-8')] } : false,
  retry: { initialRetryTime: 50, retries: expect === 'ok' ? 30 : 0 },
});

async function refused() {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (e) {
    assert.strictEqual(e.name, 'KafkaJSSASLAuthenticationError',
                       `${e.name}: ${e.message}`);
    console.log(`refused: ${e.name}: ${e.message}`);
    return;
  }
  await admin.disconnect();
  throw new Error('logged in with a wrong password');
}

async function roundTrip() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }],
                             waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const values = ['a', 'b', 'c'].map((v) => `${mechanism}-${v}`);
  await producer.send({ topic, acks: -1,
                        messages: values.map((value) => ({ value })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `g-${topic}`,
                                    sessionTimeout: 6000,
                                    heartbeatInterval: 300,
                                    maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
        () => reject(new Error(`timeout: ${JSON.stringify(got)}`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value.toString());
        if (got.length >= values.length) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  assert.deepStrictEqual(got, values);
  console.log(`${mechanism}: produced and consumed ${got.length}`);
}

(expect === 'ok' ? roundTrip() : refused()).then(
    () => process.exit(0),
    (e) => { console.error(e.stack || e); process.exit(1); });
