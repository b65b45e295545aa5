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
const { roundTrip } = require('./round_trip');

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

async function produceAndConsume() {
  const values = ['a', 'b', 'c'].map((v) => `${mechanism}-${v}`);
  const got = await roundTrip(kafka, topic, values);
  console.log(`${mechanism}: produced and consumed ${got.length}`);
}

(expect === 'ok' ? produceAndConsume() : refused()).then(
    () => process.exit(0),
    (e) => { console.error(e.stack || e); process.exit(1); });
