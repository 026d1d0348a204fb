// The fresh2 split: a second held-out set of topics, tools and phrasings for every fact kind. Written
// by someone who had not read the similarity rules (src/memory/), before the next round of rule
// changes, and measured once: like fresh.ts, an estimate for wording no rule was written with in
// view. Its values and phrasings share no topic, tool or framing with the other splits, and aim at
// the way engineers actually jot notes in an agent's memory (terse fragments, "FYI", questions,
// arrows, parentheticals). Merge-only: it has no recall cases.
import type { SlotValue, TestPhrasings } from './facts.js';
import { v, values } from './slotValues.js';


const COMPONENTS = values(
  'loan origination', 'parking permits', 'recipe import', 'clinic scheduling', 'fleet telemetry', 'supplier vetting', 'ticket triage', 'podcast feeds',
  'timesheet approvals', 'donation receipts', 'map tiles', 'quote builder', 'grant applications', 'bank reconciliation', 'lab results', 'firmware OTA',
);
const SERVICES = values('ScyllaDB', 'KeyDB', 'NSQ', 'Zipkin', 'MockServer', 'DynamoDB Local', 'SeaweedFS', 'Hasura', 'EMQX', 'Qdrant', 'Centrifugo', 'Memgraph');
const FEATURES = values('the cookie consent modal', 'offline mode', 'session replay', "the what's-new popover", 'geo-blocking', 'magic-link sign-in', 'per-tenant quotas', 'the AI summary panel');
const ENVIRONMENTS = values('the Frankfurt edge nodes', 'the staff-only instance', 'the GovCloud deployment', 'hackathon stacks', 'the São Paulo datacenter');
const ARTIFACTS = values('SARIF files', 'Helm charts', 'OpenAPI specs', 'e2e recordings', 'bundle-size stats', 'pprof profiles', 'golden files', 'model checkpoints');
const PLACES = values('the DigitalOcean Space', 'Quay.io', 'the team Dropbox', 'build/out/', 'the Notion wiki', 'the Hetzner storage box', 'the office fileserver', 'Bitbucket downloads');
const COMMANDS: SlotValue[] = [
  v('back up the config store', { noun: 'backing up the config store' }),
  v('notify the on-call channel', { noun: 'notifying the on-call channel' }),
  v('freeze the merge queue', { noun: 'freezing the merge queue' }),
  v('check the error budget', { noun: 'the error budget check' }),
  v('smoke-test the release candidate', { noun: 'smoke-testing the release candidate' }),
  v('post on the status page', { noun: 'a status page post' }),
];
const ACTIONS: SlotValue[] = [
  v('switching payment providers', { imp: 'switch payment providers', noun: 'a payment-provider switch' }),
  v('upgrading the Kubernetes nodes', { imp: 'upgrade the Kubernetes nodes', noun: 'a node upgrade' }),
  v('running a chaos experiment', { imp: 'run a chaos experiment', noun: 'a chaos experiment' }),
  v('rolling back a release', { imp: 'roll back a release', noun: 'a rollback' }),
  v("erasing a customer's data", { imp: "erase a customer's data", noun: 'a GDPR erasure' }),
];
export const FRESH2_TOOLBOXES: Array<{ tools: string[]; tasks: SlotValue[] }> = [
  {
    tools: ['husky', 'lefthook', 'pre-commit'],
    tasks: [v('manage git hooks', { ger: 'managing git hooks', noun: 'git hook management' }), v('run checks before each commit', { ger: 'running checks before each commit', noun: 'pre-commit checks' })],
  },
  {
    tools: ['msw', 'nock', 'polly.js'],
    tasks: [v('mock HTTP in tests', { ger: 'mocking HTTP in tests', noun: 'HTTP mocking' }), v('record API fixtures', { ger: 'recording API fixtures', noun: 'fixture recording' })],
  },
  {
    tools: ['trivy', 'grype', 'snyk'],
    tasks: [v('scan container images', { ger: 'scanning container images', noun: 'image scanning' }), v('find vulnerable packages', { ger: 'finding vulnerable packages', noun: 'vulnerability checks' })],
  },
  {
    tools: ['tsx', 'ts-node', 'swc-node'],
    tasks: [
      v('execute one-off maintenance scripts', { ger: 'executing one-off maintenance scripts', noun: 'one-off maintenance scripts' }),
      v('run TypeScript without a build step', { ger: 'running TypeScript without a build step', noun: 'build-free TypeScript runs' }),
    ],
  },
];
const SETTINGS: SlotValue[] = [
  v('export row cap', { unit: 'rows', key: 'export_row_cap' }),
  v('backoff base', { unit: 'milliseconds', key: 'backoff_base_ms' }),
  v('disk quota', { unit: 'GB', key: 'disk_quota_gb' }),
  v('shard count', { unit: 'shards', key: 'shard_count' }),
  v('grace period', { unit: 'minutes', key: 'grace_period_min' }),
];
const NUMBERS = values('1', '13', '17', '21', '28', '36', '42', '56', '96', '180', '360', '600', '5000');
const TESTS = values(
  'the permit renewal test', 'test_loan_apr', 'the recipe parser test', 'the OTA rollback test', 'the triage auto-assign e2e', 'the reconciliation matcher test', 'test_gps_drift', 'the survey branching test',
);
const SYMPTOMS = values("collides with another worker's temp schema", 'gets throttled by the emulator', 'assumes rows come back in insertion order', 'starts before the seed data lands');

/** Per fact kind (by name): the fresh2 split's slot values and phrasings. */
export const FRESH2: Record<string, TestPhrasings> = {
  'test needs a service': {
    slots: { component: COMPONENTS, service: SERVICES },
    positive: [
      'Heads-up: the {component} tests hang when {service} is down',
      'Is {service} up? If not, expect the {component} tests to go red',
      'bring up {service} (docker compose) before kicking off the {component} tests',
      'The {component} tests are wired to a real {service} instance, so keep one around locally',
    ],
    negative: [
      'The {component} tests mock {service} now, no instance needed',
      'FYI {service} was taken out of the {component} test setup',
      "Don't bother starting {service} for the {component} tests anymore",
    ],
  },
  'tool for a task': {
    positive: ['{Task:noun} → {tool}', 'When it comes to {task:ger}, {tool} is the pick', 'Need to {task}? {tool} is already set up for that', '{Tool} is our go-to for {task:ger}'],
    negative: ['No {tool} for {task:ger}, please', "{Tool} got ripped out of our {task:noun} setup; don't bring it back", 'We moved off {tool} for {task:ger}'],
  },
  'feature on in an environment': {
    slots: { feature: FEATURES, env: ENVIRONMENTS },
    positive: ['{Env}: {feature} = on', 'FYI, {feature} got flipped on for {env}', 'Users on {env} get {feature}', 'Leave {feature} flagged on for {env}'],
    negative: ['{Env} must not expose {feature}', '{Feature}: off for {env} until further notice', 'We killed {feature} on {env}'],
  },
  'step before another': {
    slots: { command: COMMANDS, action: ACTIONS },
    positive: [
      'Pre-flight for {action:noun}: {command:noun}',
      'Runbook order: 1) {command} 2) {action:imp}',
      '{Command:noun} gates {action:noun}',
      'Got burned once {action} without {command:noun}, so always do it first',
    ],
    negative: ['{Command:noun} before {action:noun}? Not needed anymore', 'Feel free to {action:imp} straight away; {command:noun} is optional', 'We scrapped {command:noun} as a step before {action:noun}'],
  },
  'where artifacts go': {
    slots: { artifact: ARTIFACTS, place: PLACES },
    positive: ['{Artifact}: {place}', 'CI pushes {artifact} to {place}', 'Need {artifact}? Grab them from {place}', 'The pipeline drops {artifact} into {place}'],
    negative: [],
    valueChange: ['Heads-up: since the migration {artifact} sit in {place}', 'Going forward, CI pushes {artifact} to {place}', '{Artifact}: old location retired, use {place}'],
  },
  'setting value': {
    slots: { component: COMPONENTS, setting: SETTINGS, value: NUMBERS },
    positive: [
      '{component}: {setting:key}={value} ({setting:unit})',
      '{Setting} on {component} is pinned at {value} {setting:unit}',
      '{Component} → {setting} {value} {setting:unit}',
      'FYI {component} expects its {setting} to be {value} {setting:unit}',
    ],
    negative: [],
    valueChange: [
      '{Component} {setting}: now {value} {setting:unit} (changed last sprint)',
      'Heads-up, we retuned {component}: {setting} is {value} {setting:unit} as of today',
      "Cut {component}'s {setting} down to {value} {setting:unit}",
    ],
  },
  'flaky test': {
    slots: { test: TESTS, symptom: SYMPTOMS },
    positive: ['Known flake: {test} occasionally {symptom}', 'Why is {test} red at random? It {symptom}', '{Test} randomly {symptom}; expect the odd red CI build'],
    negative: ['Fixed the flake in {test}', '{Test} is deterministic now', "Haven't seen {test} flake since we patched it"],
  },
  'JSON setting': {
    slots: { component: COMPONENTS, setting: SETTINGS, value: NUMBERS },
    positive: ['json:10', 'json:11', 'json:12'],
    negative: [],
    valueChange: ['json:10', 'json:11', 'json:12'],
  },
};

/** The fresh2 split's JSON shapes: key names no other split uses. */
export function fresh2Json(component: string, key: string, value: number, variant: number): Record<string, unknown> {
  if (variant === 10) return { area: component, knob: key, val: value };
  if (variant === 11) return { knob: key, area: component, val: value, ticket: 'OPS-412' };
  return { area: component, knob: key, val: value, set_on: '2024-03' };
}
