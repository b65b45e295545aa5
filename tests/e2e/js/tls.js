// kafkajs 2.2.4 over an SSL listener with a client certificate. Run by
// tls_test.py as: node tls.js BOOTSTRAP TOPIC CA CERT KEY
// Produces three messages and consumes them back; exits non-zero on failure.
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');
const { roundTrip } = require('./round_trip');

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
  await roundTrip(kafka, topic, ['a', 'b', 'c']);
  console.log('kafkajs over TLS: ok');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
