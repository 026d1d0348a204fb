// The fresh3 split: a third held-out set of topics, tools and phrasings for every fact kind. Written
// by someone who had not read the similarity rules (src/memory/), after fresh2 was measured and
// before the rules were changed with fresh2 as development data (fresh2's wording was in view while
// those changes were made; this split's was not), and measured once. Its values and phrasings share
// no topic, tool or framing with the other splits, and are written the way different colleagues jot
// notes in an agent's memory ("PSA", "TIL", "Q:/A:", arrows, corrections, config-file talk).
// Merge-only: it has no recall cases.
import type { SlotValue, TestPhrasings } from './facts.js';
import { v, values } from './slotValues.js';


const COMPONENTS = values(
  'claims intake', 'room allocation', 'tenant screening', 'menu sync', 'vehicle check-in', 'prescription refills', 'event ticketing', 'meter readings',
  'tip pooling', 'spare parts catalogue', 'vendor payouts', 'contract redlining', 'greenhouse sensors', 'volunteer rostering', 'exam proctoring', 'freight quotes',
);
const SERVICES = values('MariaDB', 'InfluxDB', 'Weaviate', 'ActiveMQ', 'Couchbase', 'Prometheus', 'Gotenberg', 'Mockoon', 'FerretDB', 'Unleash', 'Envoy', 'Loki');
const FEATURES = values(
  'the bulk-edit grid', 'IP allowlisting', 'the invoice preview drawer', 'document watermarking', 'the keyboard shortcut overlay', 'currency auto-detection', 'the legacy XML importer', 'shadow traffic mirroring',
);
const ENVIRONMENTS = values('the Sydney cluster', 'the dogfood instance', 'white-label tenants', 'the free tier', 'the airgapped appliance');
const ARTIFACTS = values('Terraform plan outputs', 'APK builds', 'source maps', 'HAR captures', 'Postman collections', 'schema diagrams', 'mutation-testing reports', 'benchmark CSVs');
const PLACES = values('the Synology NAS', 'the GitLab package registry', 'Sentry', 'the OVH bucket', 'tmp/ci-output/', 'the Coda doc', 'a Gitea release', 'the Linode object store');
const COMMANDS: SlotValue[] = [
  v('pause the cron jobs', { noun: 'pausing the cron jobs' }),
  v('lower the DNS TTL', { noun: 'lowering the DNS TTL' }),
  v('get sign-off from legal', { noun: 'legal sign-off' }),
  v('run the data-integrity script', { noun: 'the data-integrity script' }),
  v('export the Grafana dashboards', { noun: 'exporting the Grafana dashboards' }),
  v('scale the ingest workers to zero', { noun: 'scaling the ingest workers to zero' }),
];
const ACTIONS: SlotValue[] = [
  v('migrating a tenant to the new region', { imp: 'migrate a tenant to the new region', noun: 'a tenant migration' }),
  v('changing the domain name', { imp: 'change the domain name', noun: 'a domain change' }),
  v('upgrading the Node runtime', { imp: 'upgrade the Node runtime', noun: 'a Node runtime upgrade' }),
  v('archiving closed accounts', { imp: 'archive closed accounts', noun: 'an account archival run' }),
  v('sending a newsletter blast', { imp: 'send a newsletter blast', noun: 'a newsletter blast' }),
];
export const FRESH3_TOOLBOXES: Array<{ tools: string[]; tasks: SlotValue[] }> = [
  {
    tools: ['i18next', 'lingui', 'formatjs'],
    tasks: [v('extract UI strings', { ger: 'extracting UI strings', noun: 'UI string extraction' }), v('handle plural forms', { ger: 'handling plural forms', noun: 'plural forms' })],
  },
  {
    tools: ['date-fns', 'dayjs', 'luxon'],
    tasks: [v('parse user-entered dates', { ger: 'parsing user-entered dates', noun: 'date parsing' }), v('do timezone conversions', { ger: 'doing timezone conversions', noun: 'timezone conversions' })],
  },
  {
    tools: ['bullmq', 'agenda', 'graphile-worker'],
    tasks: [v('schedule background jobs', { ger: 'scheduling background jobs', noun: 'background job scheduling' }), v('run delayed tasks', { ger: 'running delayed tasks', noun: 'delayed tasks' })],
  },
  {
    tools: ['markdownlint', 'vale', 'cspell'],
    tasks: [v('lint the docs', { ger: 'linting the docs', noun: 'docs linting' }), v('spell-check commit messages', { ger: 'spell-checking commit messages', noun: 'commit message spell-checks' })],
  },
];
const SETTINGS: SlotValue[] = [
  v('poll interval', { unit: 'seconds', key: 'poll_interval_s' }),
  v('preview width', { unit: 'pixels', key: 'preview_width_px' }),
  v('history depth', { unit: 'revisions', key: 'history_depth' }),
  v('minimum password length', { unit: 'characters', key: 'min_password_len' }),
  v('CPU limit', { unit: 'millicores', key: 'cpu_limit_m' }),
];
const NUMBERS = values('19', '23', '26', '27', '33', '44', '52', '66', '84', '125', '240', '320', '900');
const TESTS = values(
  'the claims upload e2e', 'test_meter_rollover', 'the tip split test', 'the room swap test', 'the refill reminder test', 'the payout batching test', 'test_ticket_resale_window', 'the proctor webcam test',
);
const SYMPTOMS = values('relies on an unseeded random generator', 'trips over the daylight-saving switch', 'asserts on float values with no tolerance', 'reads the config before the watcher has loaded it');

/** Per fact kind (by name): the fresh3 split's slot values and phrasings. */
export const FRESH3: Record<string, TestPhrasings> = {
  'test needs a service': {
    slots: { component: COMPONENTS, service: SERVICES },
    positive: [
      'PSA: no {service}, no green {component} tests',
      'The {component} test fixtures open a connection to {service} on startup, so have one running',
      'TIL: the {component} suite throws ECONNREFUSED all over the place if {service} is down',
      'Keep {service} around while you iterate on {component}; its tests hit it for real',
    ],
    negative: [
      'The {component} suite swapped {service} for an in-memory fake',
      'You can stop {service} before running the {component} tests; nothing in them connects to it now',
      '{Component} tests and {service}: decoupled as of last week',
    ],
  },
  'tool for a task': {
    positive: [
      "If you're {task:ger}, it's {tool}, full stop",
      'House rule: {tool} for anything involving {task:noun}',
      'What do we use to {task}? {tool}, always',
      'Per ADR-7, {tool} owns {task:noun}',
    ],
    negative: ['Reviewers will reject {tool} for {task:noun}', "{tool}? not for {task:ger}, that's legacy", 'Migrating away from {tool}: do not use it to {task} in new code'],
  },
  'feature on in an environment': {
    slots: { feature: FEATURES, env: ENVIRONMENTS },
    positive: ['flag check: {feature} → enabled ({env})', 'Confirmed with ops: {env} has {feature} turned on', 'Config for {env} sets {feature} to true', 'Rolled out {feature} to 100% of {env}'],
    negative: ['{Feature} got pulled from {env} after the incident', 'Config for {env} sets {feature} to false', 'Is {feature} available in {env}? No, we keep it off there'],
  },
  'step before another': {
    slots: { command: COMMANDS, action: ACTIONS },
    positive: [
      'Whoever is {action} should {command} beforehand',
      '{Action:imp}? Only after you {command}',
      '{Command:noun} after {action} is too late; do it first',
      'prereq: {command}. After that you can {action:imp}',
    ],
    negative: [
      '{Command:noun} used to be required before {action:noun}; not anymore',
      "You don't have to {command} first when {action} (the tooling handles it)",
      'Forget the old rule of {command:noun} before {action:noun}; it no longer applies',
    ],
  },
  'where artifacts go': {
    slots: { artifact: ARTIFACTS, place: PLACES },
    positive: ['Q: where are the {artifact}? A: {place}', '{place} ← {artifact} (uploaded by the nightly job)', '{Artifact} are retrievable from {place}', 'Anyone hunting for the {artifact}: {place}'],
    negative: [],
    valueChange: [
      '{Artifact} no longer go to the old spot; {place} is where they are uploaded now',
      'Update your bookmarks: {artifact} are in {place} since the cutover',
      'Replaced the {artifact} location with {place}',
    ],
  },
  'setting value': {
    slots: { component: COMPONENTS, setting: SETTINGS, value: NUMBERS },
    positive: [
      'Set in the {component} config: {setting:key} = {value}',
      '{Value} {setting:unit} is the {setting} we use for {component}',
      'What is the {component} {setting}? {value} {setting:unit}',
      'For {component} we settled on {value} {setting:unit} as the {setting}',
    ],
    negative: [],
    valueChange: [
      'Old {component} {setting} is obsolete; use {value} {setting:unit}',
      'Since the incident, {component} is configured with {value} {setting:unit} for the {setting}',
      'correction: {component} {setting} should read {value} {setting:unit}',
    ],
  },
  'flaky test': {
    slots: { test: TESTS, symptom: SYMPTOMS },
    positive: ["Don't trust a single red run of {test}: it {symptom}", 'TIL why {test} fails intermittently — it {symptom}', '{test}: nondeterministic (it {symptom})'],
    negative: ['Ran {test} 200 times in a row after the fix, zero failures', 'Unquarantined {test}; it is solid now', 'Closing the flaky-test ticket for {test}, no recurrences'],
  },
  'JSON setting': {
    slots: { component: COMPONENTS, setting: SETTINGS, value: NUMBERS },
    positive: ['json:13', 'json:14', 'json:15'],
    negative: [],
    valueChange: ['json:13', 'json:14', 'json:15'],
  },
};

/** The fresh3 split's JSON shapes: key names no other split uses. */
export function fresh3Json(component: string, key: string, value: number, variant: number): Record<string, unknown> {
  if (variant === 13) return { target: component, property: key, setpoint: value };
  if (variant === 14) return { property: key, target: component, setpoint: value, rationale: 'capacity planning' };
  return { target: component, property: key, setpoint: value, applied_via: 'helm values' };
}
