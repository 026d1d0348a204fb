// The fresh4 split: a fourth held-out set of topics, tools and phrasings for every fact kind. Written
// by someone who had not read the similarity rules (src/memory/) nor any benchmark output, before
// the learned merge scorer was frozen, and measured once. Its values come from domains no other
// split uses (logistics, games, healthcare billing, robotics, media streaming, agriculture), and its
// phrasings are new (none copied from the other splits), written the way different engineers jot
// notes in an agent's memory (runbook steps, "Q:/A:", post-mortems, review comments, config talk,
// "FYI"/"NB"/"w/", ON/OFF shouting). Merge-only: it has no recall cases.
import type { SlotValue, TestPhrasings } from './facts.js';
import { v, values } from './slotValues.js';


const COMPONENTS = values(
  'route optimisation', 'matchmaking', 'pallet labelling', 'leaderboards', 'remittance matching', 'drone waypoints', 'subtitle burn-in', 'irrigation planning',
  'dock appointments', 'loot tables', 'prior authorisation', 'arm calibration', 'adaptive bitrate', 'harvest forecasting', 'customs declarations', 'cloud saves',
  'eligibility verification', 'livestock traceability',
);
const SERVICES = values('TimescaleDB', 'QuestDB', 'Hazelcast', 'Milvus', 'HiveMQ', 'Orthanc', 'HAPI FHIR', 'Icecast', 'Gazebo', 'Kong', 'RethinkDB', 'Tarantool', 'Dgraph', 'Trino');
const FEATURES = values(
  'the replay scrubber', 'the co-pay estimator', 'route auto-resequencing', 'low-latency streaming mode', 'the crop yield heatmap', 'cross-play lobbies', 'the collision-avoidance override', 'batched EDI submissions',
  'haptic feedback', 'spectator mode',
);
const ENVIRONMENTS = values('the hospital pilot sites', 'the robot test bay', 'the console cert build', 'the field gateways', 'the soak-test rig', 'the Mumbai region');
const ARTIFACTS = values(
  'ROS bags', 'EDI 837 batches', 'match replays', 'drone flight logs', 'field scouting photos', 'bitrate ladder samples', 'precompiled shader packs', 'anonymised DICOM studies',
  'route plan diffs', 'payer EOB scans',
);
const PLACES = values(
  'the Scaleway bucket', 'the OneDrive handover folder', 'the Nextcloud instance', 'the SMB share on the depot server', 'the drop/ directory', 'the YouTrack board', 'the robotics bench PC', 'the MediaWiki page',
  'the Ceph RGW bucket', 'our Mux account',
);
const COMMANDS: SlotValue[] = [
  v('home the robot arms', { noun: 'homing the robot arms' }),
  v('halt the pick waves', { noun: 'halting the pick waves' }),
  v('ping the clearinghouse liaison', { noun: 'pinging the clearinghouse liaison' }),
  v('lock the leaderboards', { noun: 'locking the leaderboards' }),
  v('dump the herd register', { noun: 'a herd register dump' }),
  v('raise a CAB request', { noun: 'a CAB request' }),
  v('disable the autoscaler', { noun: 'disabling the autoscaler' }),
];
const ACTIONS: SlotValue[] = [
  v('flashing the controller boards', { imp: 'flash the controller boards', noun: 'a controller reflash' }),
  v('adding a new payer contract', { imp: 'add a new payer contract', noun: 'a new payer contract' }),
  v('launching a game season', { imp: 'launch a game season', noun: 'a season launch' }),
  v('resharding the match history store', { imp: 'reshard the match history store', noun: 'a match-history reshard' }),
  v('moving the origin servers', { imp: 'move the origin servers', noun: 'an origin move' }),
  v('resubmitting rejected claims', { imp: 'resubmit rejected claims', noun: 'a claim resubmission' }),
];
export const FRESH4_TOOLBOXES: Array<{ tools: string[]; tasks: SlotValue[] }> = [
  {
    tools: ['sharp', 'jimp', 'imagemagick'],
    tasks: [
      v('strip EXIF data from uploads', { ger: 'stripping EXIF data from uploads', noun: 'EXIF stripping' }),
      v('convert images to WebP', { ger: 'converting images to WebP', noun: 'WebP conversion' }),
    ],
  },
  {
    tools: ['papaparse', 'csv-parse', 'fast-csv'],
    tasks: [
      v('parse carrier rate sheets', { ger: 'parsing carrier rate sheets', noun: 'rate-sheet parsing' }),
      v('load payer fee schedules', { ger: 'loading payer fee schedules', noun: 'fee-schedule loading' }),
    ],
  },
  {
    tools: ['turf', 'jsts', 'geolib'],
    tasks: [
      v('compute delivery zones', { ger: 'computing delivery zones', noun: 'delivery-zone geometry' }),
      v('measure route distances', { ger: 'measuring route distances', noun: 'route distance calculations' }),
    ],
  },
  {
    tools: ['ffmpeg', 'gstreamer', 'shaka-packager'],
    tasks: [
      v('package HLS renditions', { ger: 'packaging HLS renditions', noun: 'HLS rendition packaging' }),
      v('cut highlight clips', { ger: 'cutting highlight clips', noun: 'highlight clip cutting' }),
    ],
  },
  {
    tools: ['msgpackr', 'cbor-x', 'avsc'],
    tasks: [
      v('encode sensor frames', { ger: 'encoding sensor frames', noun: 'sensor frame encoding' }),
      v('serialise game state snapshots', { ger: 'serialising game state snapshots', noun: 'game state serialisation' }),
    ],
  },
];
const SETTINGS: SlotValue[] = [
  v('segment duration', { unit: 'seconds', key: 'segment_duration_s' }),
  v('tick rate', { unit: 'hertz', key: 'tick_rate_hz' }),
  v('lookahead window', { unit: 'weeks', key: 'lookahead_weeks' }),
  v('grip force limit', { unit: 'newtons', key: 'grip_force_n' }),
  v('odometry buffer', { unit: 'kilobytes', key: 'odometry_buffer_kb' }),
  v('lobby capacity', { unit: 'players', key: 'lobby_capacity' }),
];
const NUMBERS = values('29', '31', '34', '38', '46', '54', '62', '85', '110', '144', '175', '210', '450', '1500');
const TESTS = values(
  'the pallet manifest e2e', 'test_loot_drop_weights', 'the gripper torque test', 'the ERA 835 decoding test', 'the bitrate downshift test', 'test_irrigation_window', 'the dock door assignment test', 'the lobby fill test',
  'the subtitle drift test', 'the copay rounding test',
);
const SYMPTOMS = values(
  'leaves a robot joint un-homed for the next test', 'sleeps a fixed 500 ms instead of polling', 'shares a fixture folder that another test wipes', 'lets the simulator clock drift ahead of the controller',
  'expects the payer sandbox to answer within a second',
);

/** Per fact kind (by name): the fresh4 split's slot values and phrasings. */
export const FRESH4: Record<string, TestPhrasings> = {
  'test needs a service': {
    slots: { component: COMPONENTS, service: SERVICES },
    positive: [
      "FYI the {component} test suite won't pass unless {service} is reachable",
      'Before kicking off the {component} tests, bring up {service}: they connect to it directly',
      "Q: why is every {component} test red locally? A: {service} wasn't started, and they require it",
      '{Service} is a hard dependency of the {component} integration tests',
      'NB: {component} specs call into a real {service} instance, so it must be running',
      "Post-mortem: the {component} CI job died because the {service} container was missing; those tests can't run w/o it",
    ],
    negative: [
      '{Component} tests run fine with {service} shut down now; that dependency was removed',
      'No {service} needed for the {component} suite anymore (it talks to a stub)',
      'Dropped the {service} requirement from the {component} tests in the last refactor',
      'Review comment: remove the {service} container from the {component} CI job, its tests never touch it now',
      'FYI: the {component} tests are {service}-free these days',
    ],
  },
  'tool for a task': {
    positive: [
      'Convention here: {task} using {tool}, nothing else',
      '{Tool} is our pick for {task:noun}, agreed in the tooling sync',
      'When it comes to {task:ger}, reach for {tool}',
      "Code review: please {task} via {tool}, that's the team standard",
      'Q: which lib for {task:noun}? A: {tool}',
      '{Task:ger}: done w/ {tool} across the codebase',
    ],
    negative: [
      "{Tool} is deprecated for {task:ger}; don't add new usages",
      'Heads-up: we dropped {tool}, nobody should {task} with it anymore',
      'Nope on {tool} for {task:noun}, the team voted it out',
      'Blocked in review: anything that uses {tool} to {task}',
      '{Task:ger} must not go through {tool} (removed from the approved list)',
    ],
  },
  'feature on in an environment': {
    slots: { feature: FEATURES, env: ENVIRONMENTS },
    positive: [
      '{Env}: {feature} is ON',
      'Flipped the toggle for {feature} to enabled in {env}',
      'heads-up, everyone on {env} gets {feature}; the flag is enabled',
      'Q: does {env} have {feature}? A: yes, enabled',
      'Flag config for {env}: {feature} = enabled',
      '{Feature} runs in {env} (flag enabled by ops)',
    ],
    negative: [
      '{Env}: {feature} is OFF',
      'The flag for {feature} stays disabled on {env}, do not flip it',
      'Rolled {feature} back in {env}; it is disabled there until further notice',
      "Q: does {env} have {feature}? A: no, it's disabled there",
      'Killswitch engaged: {feature} disabled across {env}',
    ],
  },
  'step before another': {
    slots: { command: COMMANDS, action: ACTIONS },
    positive: [
      'Order matters: {command} first, then {action:imp}',
      'Runbook, step one of {action:noun}: {command}',
      'Never start {action} until {command:noun} is done',
      'Post-mortem: we skipped {command:noun} before {action:noun} and it bit us; it is mandatory',
      'Q: anything to do before {action}? A: yes, {command}',
      '{Action:noun} is blocked on {command:noun}, which always goes first',
    ],
    negative: [
      "Dropped {command:noun} from the checklist for {action:noun}; it's no longer a prerequisite",
      '{Action:imp} straight away; {command:noun} beforehand is unnecessary now',
      'Q: must I {command} before {action}? A: no, not since the pipeline change',
      'The prerequisite of {command:noun} ahead of {action:noun} has been retired',
      'Skip the "{command}" step: {action:noun} no longer depends on it',
    ],
  },
  'where artifacts go': {
    slots: { artifact: ARTIFACTS, place: PLACES },
    positive: [
      '{Artifact} → {place}',
      'Looking for {artifact}? Check {place}',
      'The CI publish step drops {artifact} into {place}',
      '{Place} is the home of our {artifact}',
      'FYI: {artifact} are persisted to {place}',
      'storage map: {artifact} = {place}',
    ],
    negative: [],
    valueChange: [
      '{Artifact} have moved; {place} is their new home',
      'Migration done: {artifact} are published to {place} from today on, not the previous location',
      "heads-up, changed where {artifact} get pushed: it's {place} now",
      'Repointed the {artifact} upload target to {place}',
      "Stop looking in the old place for {artifact}, they're in {place} as of this sprint",
    ],
  },
  'setting value': {
    slots: { component: COMPONENTS, setting: SETTINGS, value: NUMBERS },
    positive: [
      'In the {component} config, {setting:key} is {value}',
      '{Component} runs its {setting} at {value} {setting:unit}',
      'Q: {setting} for {component}? A: {value} {setting:unit}',
      'NB the {setting} in {component} is pinned to {value} {setting:unit}',
      "We keep {component} at a {setting} of {value} {setting:unit}; don't touch",
      'Code review: {component} expects {setting:key} to be {value} ({setting:unit})',
    ],
    negative: [],
    valueChange: [
      'Retuned {component}: its {setting} is {value} {setting:unit} now, replacing the old number',
      'New {setting} for {component} as of today: {value} {setting:unit}',
      'PR merged: {setting:key} for {component} moves to {value}',
      "Heads-up, {component} no longer uses the previous {setting}; it's {value} {setting:unit} going forward",
      'Post-incident change: {component} {setting} set to {value} {setting:unit}, superseding the old value',
    ],
  },
  'flaky test': {
    slots: { test: TESTS, symptom: SYMPTOMS },
    positive: [
      'Retry before you panic: {test} flakes because it {symptom}',
      '{Test} goes red at random; root cause: it {symptom}',
      'Known flake: {test} (it {symptom})',
      'Post-mortem on the red CI builds: {test} is intermittent, and the reason is that it {symptom}',
      'Q: why does {test} pass locally but sometimes fail in CI? A: it {symptom}',
    ],
    negative: [
      '{Test} is deterministic again; the flakiness is fixed',
      'Took {test} off the known-flakes list after 500 green runs in a row',
      'No more intermittent failures from {test} since the patch landed',
      'Re-enabled {test} as a required check; it no longer flakes',
    ],
  },
  'JSON setting': {
    slots: { component: COMPONENTS, setting: SETTINGS, value: NUMBERS },
    positive: ['json:16', 'json:17', 'json:18'],
    negative: [],
    valueChange: ['json:16', 'json:17', 'json:18'],
  },
};

/** The fresh4 split's JSON shapes: key names no other split uses. */
export function fresh4Json(component: string, key: string, value: number, variant: number): Record<string, unknown> {
  if (variant === 16) return { scope: component, tunable: key, assigned: value };
  if (variant === 17) return { tunable: key, scope: component, assigned: value, decided_in: 'RFC-88' };
  return { scope: component, tunable: key, assigned: value, owner_team: 'field robotics' };
}
