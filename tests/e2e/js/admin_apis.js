// kafkajs 2.2.4's admin calls of consumer groups and configs against
// chronik-server. Run by admin_apis_test.py as:
//   node admin_apis.js BOOTSTRAP TOPIC
// Checks, with Kafka's error codes:
//   createTopics with configEntries; an unknown config is INVALID_CONFIG;
//   deleteGroups: an empty group with committed offsets goes (its offsets
//   with it), a group with a running member is NON_EMPTY_GROUP (68), an
//   unknown one GROUP_ID_NOT_FOUND (69), and once its member left it goes;
//   describeConfigs with includeSynonyms: the topic's override first, then
//   the broker default's synonym (log.retention.ms, DEFAULT_CONFIG).
// Exits non-zero on the first failed check, printing what was seen.
'use strict';
const assert = require('assert');
const { Kafka, logLevel, ConfigResourceTypes, ConfigSource } =
    require('kafkajs');

const [bootstrap, topic] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'chronik-e2e-admin',
  brokers: [bootstrap],
  logLevel: logLevel.NOTHING,
  retry: { initialRetryTime: 50, retries: 5 },
});

async function createTopics(admin) {
  assert.strictEqual(await admin.createTopics({
    topics: [{ topic, numPartitions: 1,
               configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
    waitForLeaders: true }), true);
  let refused = null;
  try {
    await admin.createTopics({ topics: [{
      topic: `${topic}-bad`, numPartitions: 1,
      configEntries: [{ name: 'no.such.config', value: '1' }] }] });
  } catch (error) {
    refused = error;
  }
  assert.ok(refused, 'an unknown topic config was accepted');
  const type = refused.type ||
      (refused.errors && refused.errors[0] && refused.errors[0].type);
  assert.strictEqual(type, 'INVALID_CONFIG', String(refused));
}

// A member of `groupId` that keeps running (subscribed to the topic).
async function runningMember(groupId) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000,
                                    heartbeatInterval: 300,
                                    maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let joined;
  const ready = new Promise(resolve => { joined = resolve; });
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({ eachMessage: async () => {} });
  await ready;
  return consumer;
}

async function deleteGroupsError(admin, groups) {
  try {
    await admin.deleteGroups(groups);
  } catch (error) {
    return (error.groups || []).map(g => [g.groupId, g.errorCode]);
  }
  return [];
}

async function deleteGroups(admin) {
  const stored = `${topic}-stored`;
  const busy = `${topic}-busy`;
  await admin.setOffsets({ groupId: stored, topic,
                           partitions: [{ partition: 0, offset: '5' }] });
  const [before] = await admin.fetchOffsets({ groupId: stored,
                                              topics: [topic] });
  assert.strictEqual(before.partitions[0].offset, '5');
  const deleted = await admin.deleteGroups([stored]);
  assert.deepStrictEqual(deleted.map(g => [g.groupId, g.errorCode]),
                         [[stored, 0]]);
  const [after] = await admin.fetchOffsets({ groupId: stored,
                                             topics: [topic] });
  assert.strictEqual(after.partitions[0].offset, '-1');

  const member = await runningMember(busy);
  const never = `${topic}-never`;
  const errors = await deleteGroupsError(admin, [busy, never]);
  errors.sort();
  assert.deepStrictEqual(errors, [[busy, 68], [never, 69]].sort());
  await member.disconnect();  // leaves the group: it is empty now
  const gone = await admin.deleteGroups([busy]);
  assert.deepStrictEqual(gone.map(g => [g.groupId, g.errorCode]),
                         [[busy, 0]]);
  console.log('deleteGroups ok');
}

async function describeConfigs(admin) {
  const described = await admin.describeConfigs({
    includeSynonyms: true,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic,
                  configNames: ['retention.ms', 'segment.bytes'] }],
  });
  const entries = described.resources[0].configEntries;
  const retention = entries.find(e => e.configName === 'retention.ms');
  assert.strictEqual(retention.configValue, '3600000');
  assert.strictEqual(retention.configSource, ConfigSource.TOPIC_CONFIG);
  assert.deepStrictEqual(
      retention.configSynonyms.map(s => [s.configName, s.configSource]),
      [['retention.ms', ConfigSource.TOPIC_CONFIG],
       ['log.retention.ms', ConfigSource.DEFAULT_CONFIG]]);
  const segment = entries.find(e => e.configName === 'segment.bytes');
  assert.strictEqual(segment.configSource, ConfigSource.DEFAULT_CONFIG);
  assert.strictEqual(segment.isDefault, true);
  console.log('describeConfigs ok');
}

(async () => {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await createTopics(admin);
    await deleteGroups(admin);
    await describeConfigs(admin);
    await admin.disconnect();
    console.log('ok   admin_apis');
    process.exit(0);
  } catch (error) {
    console.log(`FAIL admin_apis: ${error && error.stack || error}`);
    process.exit(1);
  }
})();
