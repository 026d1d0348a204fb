// The fresh split: topics, tools and phrasings of its own for every fact kind, written after the
// similarity rules of issue 6 were frozen and measured once, like the test split before it. The test
// split's wording had been seen while the rules were written (its phrasings are in facts.ts and its
// mistakes were diagnosed), so this split is the estimate for wordings the rules never met.
import type { SlotValue, TestPhrasings } from './facts.js';
import { v, values } from './slotValues.js';


const COMPONENTS = values(
  'subscription renewals', 'gift cards', 'seat reservations', 'payroll export', 'device enrollment', 'translation memory', 'dunning emails', 'warehouse labels',
  'coupon engine', 'audit timeline', 'media library', 'partner portal', 'usage metering', 'address autocomplete', 'kiosk mode', 'report scheduler',
);
const SERVICES = values('CockroachDB', 'Redpanda', 'Dragonfly', 'SurrealDB', 'Jaeger', 'Grafana Tempo', 'WireMock', 'Azurite', 'Valkey', 'Ollama', 'Mosquitto', 'Toxiproxy');
const FEATURES = values('passkey login', 'the beta billing page', 'image lazy loading', 'rate-limit headers', 'the referral banner', 'read replicas', 'request hedging', 'the audit export button');
const ENVIRONMENTS = values('the demo tenant', 'the US-East region', 'the nightly environment', 'partner sandboxes', 'the perf lab');
const ARTIFACTS = values('flame graphs', 'signed installers', 'database dumps', 'API changelogs', 'mobile crash reports', 'license reports', 'Lighthouse scores', 'fuzzing corpora');
const PLACES = values('the Wasabi bucket', 'the ops SharePoint', 'a Harbor registry', 'the metrics/ directory', 'the legal drive', 'Backstage', 'the tape archive', 'an S3 Glacier vault');
const COMMANDS: SlotValue[] = [
  v('regenerate the GraphQL types', { noun: 'regenerating the GraphQL types' }),
  v('vacuum the database', { noun: 'vacuuming the database' }),
  v('sign the binaries', { noun: 'signing the binaries' }),
  v('run the accessibility audit', { noun: 'the accessibility audit' }),
  v('snapshot the volumes', { noun: 'snapshotting the volumes' }),
  v('drain the job queue', { noun: 'draining the job queue' }),
];
const ACTIONS: SlotValue[] = [
  v('rotating the TLS certificates', { imp: 'rotate the TLS certificates', noun: 'a certificate rotation' }),
  v('scaling the cluster down', { imp: 'scale the cluster down', noun: 'a cluster scale-down' }),
  v('shipping a mobile release', { imp: 'ship a mobile release', noun: 'a mobile release' }),
  v('failing over the database', { imp: 'fail over the database', noun: 'a database failover' }),
  v('reindexing the catalogue', { imp: 'reindex the catalogue', noun: 'a catalogue reindex' }),
];
export const FRESH_TOOLBOXES: Array<{ tools: string[]; tasks: SlotValue[] }> = [
  {
    tools: ['k6', 'locust', 'artillery'],
    tasks: [v('load test the API', { ger: 'load testing the API', noun: 'API load tests' }), v('record traffic baselines', { ger: 'recording traffic baselines', noun: 'traffic baselines' })],
  },
  {
    tools: ['renovate', 'dependabot'],
    tasks: [v('update dependencies', { ger: 'updating dependencies', noun: 'dependency updates' }), v('pin GitHub Actions versions', { ger: 'pinning GitHub Actions versions', noun: 'action pinning' })],
  },
  {
    tools: ['storybook', 'ladle'],
    tasks: [v('document UI components', { ger: 'documenting UI components', noun: 'component docs' }), v('review visual states', { ger: 'reviewing visual states', noun: 'visual state reviews' })],
  },
  {
    tools: ['sops', 'doppler', 'infisical'],
    tasks: [v('manage secrets', { ger: 'managing secrets', noun: 'secret management' }), v('share env files', { ger: 'sharing env files', noun: 'env file sharing' })],
  },
];
const SETTINGS: SlotValue[] = [
  v('lock timeout', { unit: 'seconds', key: 'lock_timeout_s' }),
  v('prefetch count', { unit: 'messages', key: 'prefetch_count' }),
  v('image quality', { unit: 'percent', key: 'image_quality_pct' }),
  v('cache size', { unit: 'MB', key: 'cache_size_mb' }),
  v('heartbeat interval', { unit: 'seconds', key: 'heartbeat_s' }),
];
const NUMBERS = values('11', '14', '18', '22', '35', '48', '72', '80', '150', '256', '400', '750', '2000');
const TESTS = values('the seat booking test', 'test_payroll_totals', 'the kiosk idle test', 'the coupon stacking test', 'the media upload test', 'the enrollment wizard test', 'the dunning schedule test', 'the label printing test');
const SYMPTOMS = values('races the background indexer', 'gets a connection reset from the mock server', 'reads a half-written file', 'exceeds its time budget');

/** Per fact kind (by name): the fresh split's slot values and phrasings. */
export const FRESH: Record<string, TestPhrasings> = {
  'test needs a service': {
    slots: { component: COMPONENTS, service: SERVICES },
    positive: [
      'Before running the {component} tests, start {service}',
      "The {component} test run won't work unless {service} is available",
      '{Service} is a prerequisite for the {component} tests',
      'To test {component} locally you need {service} up',
    ],
    negative: ['{Service} is no longer a prerequisite for the {component} tests', 'The {component} tests run fine without {service} now', 'We removed the {service} dependency from the {component} tests'],
  },
  'tool for a task': {
    positive: ['Our choice for {task:noun} is {tool}', '{Task:ger}? Use {tool}', 'We rely on {tool} for {task:ger}', 'Stick to {tool} when you {task}'],
    negative: ["{Tool} shouldn't be used to {task} anymore", 'Replace {tool} for {task:noun}; it is deprecated here', 'We dropped {tool} for {task:ger}'],
  },
  'feature on in an environment': {
    slots: { feature: FEATURES, env: ENVIRONMENTS },
    positive: ['{Feature} is turned on for {env}', 'Keep {feature} on in {env}', '{Env} ships with {feature} enabled', 'In {env} we run {feature}'],
    negative: ['{Feature} was switched off for {env}', '{Env} ships without {feature}', 'Do not turn on {feature} in {env}'],
  },
  'step before another': {
    slots: { command: COMMANDS, action: ACTIONS },
    positive: ['Always {command} ahead of {action}', 'The checklist for {action:noun} starts with {command:noun}', '{Command}, and only then {action:imp}', 'Do {command:noun} first whenever {action:noun} is planned'],
    negative: ['{Action:noun} can go ahead without {command:noun}', '{Command:noun} is no longer part of the checklist for {action:noun}', 'No need to {command} before {action}'],
  },
  'where artifacts go': {
    slots: { artifact: ARTIFACTS, place: PLACES },
    positive: ['{Artifact} are published to {place}', '{Place} is the home of the {artifact}', 'Check {place} for the {artifact}', 'The {artifact} get copied to {place}'],
    negative: [],
    valueChange: ['{Artifact} have moved to {place}', 'Starting this sprint, {artifact} go to {place}', 'The new home of the {artifact} is {place}'],
  },
  'setting value': {
    slots: { component: COMPONENTS, setting: SETTINGS, value: NUMBERS },
    positive: [
      '{Component} has its {setting} at {value} {setting:unit}',
      'We keep the {component} {setting} at {value} {setting:unit}',
      '{Setting} ({component}): {value} {setting:unit}',
      'The {setting} for {component} should be {value} {setting:unit}',
    ],
    negative: [],
    valueChange: ['The {component} {setting} was changed to {value} {setting:unit}', 'New {setting} for {component}: {value} {setting:unit}', '{Component} {setting} bumped to {value} {setting:unit}'],
  },
  'flaky test': {
    slots: { test: TESTS, symptom: SYMPTOMS },
    positive: ['{Test} is flaky: it {symptom} every so often', 'Retry {test} if it fails; it {symptom} sometimes', '{Test} {symptom} on some CI runs'],
    negative: ['{Test} is reliable again after the fix', '{Test} has passed on CI every run this month', 'No more flakes from {test}'],
  },
  'JSON setting': {
    slots: { component: COMPONENTS, setting: SETTINGS, value: NUMBERS },
    positive: ['json:7', 'json:8', 'json:9'],
    negative: [],
    valueChange: ['json:7', 'json:8', 'json:9'],
  },
};

/** The fresh split's JSON shapes: key names neither tuning nor test used. */
export function freshJson(component: string, key: string, value: number, variant: number): Record<string, unknown> {
  if (variant === 7) return { subsystem: component, config_key: key, current: value };
  if (variant === 8) return { config_key: key, subsystem: component, current: value, why: 'incident review' };
  return { subsystem: component, config_key: key, current: value, reviewed_by: 'ops' };
}
