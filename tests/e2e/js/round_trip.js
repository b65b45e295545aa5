// The round trip the kafkajs e2e scripts share (security.js, tls.js): create
// `topic` (one partition), produce `values` with acks=all, read them back
// through a consumer group and check they arrive in order. Throws on failure.
'use strict';
const assert = require('assert');

async function roundTrip(kafka, topic, values) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }],
                             waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
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
  return got;
}

module.exports = { roundTrip };
