// The relation rules on wording they were not written from: framing words no list holds are told
// from what a memory is about by their place in the sentence (framing.ts), while a word swapped in
// place, a multiword name, a name-shaped word and a step's own verb stay what the memory is about.
import { describe, expect, it } from 'vitest';
import { framingPositions, namedWords, type ClauseWord } from '../../src/memory/memories/framing.js';
import { relate, textView } from '../../src/memory/memories/similarity.js';

/** The second memory posted against the first, as the service relates them. */
const rel = (first: string, second: string, cosine = 0.5) => relate(textView(second), textView(first), cosine);

describe('framing by place', () => {
  it('marks relational nouns, participles after a linking verb, adverbs and prepositional verbs, not names', () => {
    const framed = (text: string, open: string[], first = true) => {
      const clause: ClauseWord[] = text.split(' ').map((word) => ({ word, open: open.includes(word), named: false }));
      return [...framingPositions(clause, first).positions].map((i) => clause[i]!.word);
    };
    expect(framed('the tape archive is the home of the flame graphs', ['tape', 'archive', 'home', 'flame', 'graphs'])).toEqual(['home']);
    expect(framed('license reports are published to the legal drive', ['license', 'reports', 'published', 'legal', 'drive'])).toEqual(['published']);
    expect(framed('our choice for dependency updates is renovate', ['choice', 'dependency', 'renovate'])).toEqual(['choice']);
    expect(framed('stick to dependabot', ['stick', 'dependabot'])).toEqual(['stick']);
    expect(framed('test the kiosk locally', ['test', 'kiosk', 'locally'])).toEqual(['locally']);
    // A word beside another open word is part of a name; -ly alone is no adverb.
    expect(framed('the legal drive of the team', ['legal', 'drive', 'team'])).toEqual([]);
    expect(framed('dragonfly is up', ['dragonfly'])).toEqual([]);
    // A step's own verb with its object is what the step is: not framing.
    expect(framed('warm the cache', ['warm', 'cache'])).toEqual([]);
  });

  it('reads name-shaped words as names: a capital inside the sentence, digits, underscores', () => {
    const named = namedWords('Backstage is where test_payroll_totals logs go; ask the SRE team about WireMock and k8s');
    expect([...named].sort()).toEqual(['k8s', 'mock', 'payroll', 'sre', 'test', 'totals', 'wire']);
    expect(textView('Dragonfly is a prerequisite for the billing tests').anchors).toContain('dragonfly');
  });
});

describe('paraphrases in framing words no list holds', () => {
  it('merges a fact said with other framing words: home, check, published, copied, choice, checklist', () => {
    expect(rel('License reports are published to the legal drive', 'The legal drive is the home of the license reports')).toBe('duplicate');
    expect(rel('Check the tape archive for the flame graphs', 'The flame graphs get copied to the tape archive')).toBe('duplicate');
    expect(rel('Our choice for dependency updates is dependabot', 'Stick to dependabot when you update dependencies')).toBe('duplicate');
    expect(rel('The checklist for a database failover starts with vacuuming the database', 'Do vacuuming the database first whenever a database failover is planned')).toBe(
      'duplicate',
    );
    // A compound ending in a particle is its verb said apart.
    expect(rel('Drain the job queue, and only then scale the cluster down', 'Draining the job queue comes first whenever a cluster scale-down is planned')).toBe('duplicate');
  });

  it('keeps a swapped name apart, however the rest is framed', () => {
    expect(rel('The legal drive is the home of the license reports', 'The tape archive is the home of the license reports')).toBe('distinct');
    expect(rel('License reports are published to the legal drive', 'Flame graphs are published to the legal drive')).toBe('distinct');
    // One word swapped in place, all else the same: a substitution, even where its place frames.
    expect(rel('The logs for billing go to S3', 'The traces for billing go to S3')).toBe('distinct');
    // The verb of a step is the step.
    expect(rel('Clear the build cache ahead of a release', 'Warm the cache ahead of a release')).toBe('distinct');
    // "new" in a feature's name announces nothing.
    expect(rel('The new checkout flow is enabled in staging', 'The new checkout flow is enabled in production')).toBe('distinct');
  });
});

describe('contradictions in new wording', () => {
  it('reads needing, removing and replacing: "won\'t work unless", "removed the dependency", "replace X"', () => {
    expect(textView("The billing tests won't work unless Redis is available").polarity).toBe(1);
    expect(rel('Redis is a prerequisite for the billing tests', "The billing tests won't work unless Redis is available")).toBe('duplicate');
    expect(rel('Redis is no longer a prerequisite for the billing tests', 'We removed the Redis dependency from the billing tests')).toBe('duplicate');
    expect(rel('Redis is a prerequisite for the billing tests', 'We removed the Redis dependency from the billing tests')).toBe('contradiction');
    expect(textView('Replace k6 for load tests').polarity).toBe(-1);
  });

  it('supersedes a place with a new one announced as "the new home" or "starting this sprint"', () => {
    expect(rel('Flame graphs are published to the Wasabi bucket', 'The new home of the flame graphs is the legal drive')).toBe('contradiction');
    expect(rel('Flame graphs are published to the Wasabi bucket', 'Starting this sprint, flame graphs go to the legal drive')).toBe('contradiction');
    // Another thing's new home is no contradiction.
    expect(rel('Flame graphs are published to the Wasabi bucket', 'The new home of the license reports is the legal drive')).toBe('distinct');
  });

  it('takes the opposite claim about all of a shorter statement, with a detail added, as a contradiction', () => {
    const fixed = 'The media upload test is reliable again after the fix';
    expect(rel(fixed, 'The media upload test is flaky: it gets a connection reset from the mock server every so often')).toBe('contradiction');
    // The same claim with a detail is the same fact; another test's flakiness is another fact.
    expect(rel('The media upload test is flaky on CI', 'The media upload test is flaky on CI: it gets a connection reset')).toBe('duplicate');
    expect(rel(fixed, 'The seat booking test is flaky: it gets a connection reset from the mock server every so often')).toBe('distinct');
  });
});

describe('dependence, precedence and relocation said in other words', () => {
  it('reads a failure when a thing is absent as needing it: "hang when X is down", "if not, expect red"', () => {
    const needs = 'The billing tests need Redis running';
    expect(textView('The billing tests hang when Redis is down').polarity).toBe(1);
    expect(rel(needs, 'The billing tests hang when Redis is down')).toBe('duplicate');
    expect(rel(needs, 'Is Redis up? If not, expect the billing tests to go red')).toBe('duplicate');
    expect(rel(needs, "You'll get red billing tests unless Redis is running")).toBe('duplicate');
    expect(rel(needs, 'Bring up Redis (docker compose) before kicking off the billing tests')).toBe('duplicate');
    expect(rel(needs, 'The billing tests are wired to a real Redis instance, so keep one around locally')).toBe('duplicate');
    // A hang or a red build on its own is a failure, not a need.
    expect(textView('The billing tests hang').polarity).toBe(-1);
    // Another service, however it is said, is another fact.
    expect(rel('The billing tests hang when Kafka is down', 'Is Redis up? If not, expect the billing tests to go red')).toBe('distinct');
  });

  it('reads a test double as a verb as replacing the thing, not inside a name', () => {
    expect(rel('The billing tests need Redis running', 'The billing tests mock Redis now, no instance needed')).toBe('contradiction');
    expect(rel('The billing tests need Redis running', 'The billing tests stub out Redis now')).toBe('contradiction');
    expect(rel('The billing tests no longer need Redis', 'The billing tests stub out Redis now')).toBe('duplicate');
    expect(textView('Is MockServer up? If not, expect the billing tests to go red').polarity).toBe(1);
    expect(textView('It gets a connection reset from the mock server').anchors).toContain('mock');
  });

  it('reads gating, pre-flight and lessons learned the hard way as one step before another', () => {
    const before = 'Back up the config store before switching payment providers';
    expect(rel(before, 'Backing up the config store gates a payment-provider switch')).toBe('duplicate');
    expect(rel(before, 'Got burned once switching payment providers without backing up the config store, so always do it first')).toBe('duplicate');
    expect(rel('Pre-flight for a rollback: the error budget check', 'Feel free to roll back a release straight away; the error budget check is optional')).toBe('contradiction');
    expect(rel('Smoke-testing the release candidate gates a chaos experiment', 'We scrapped smoke-testing the release candidate as a step before a chaos experiment')).toBe(
      'contradiction',
    );
    // Another step is another fact.
    expect(rel(before, 'Notifying the on-call channel gates a payment-provider switch')).toBe('distinct');
  });

  it('matches a compound to its parts said apart: payment-provider, rollback, pre-commit', () => {
    expect(rel('Husky is our go-to for running checks before each commit', "Husky got ripped out of our pre-commit checks setup; don't bring it back")).toBe('contradiction');
    expect(rel('Clear the CDN cache before a rollback', 'Clear the CDN cache before you roll back')).toBe('duplicate');
  });

  it('supersedes a place with one said to replace it: "old location retired, use P", "since the migration", "not P"', () => {
    const old = 'Heap snapshots are stored in the S3 bucket';
    expect(rel(old, 'Heap snapshots: old location retired, use the team Dropbox')).toBe('contradiction');
    expect(rel(old, 'Heads-up: since the migration heap snapshots sit in the Notion wiki')).toBe('contradiction');
    expect(rel(old, 'Heap snapshots: the S3 bucket is deprecated, use Google Cloud Storage')).toBe('contradiction');
    expect(rel(old, 'Heap snapshots live in Google Cloud Storage now, not the S3 bucket')).toBe('contradiction');
    expect(rel(old, 'New location for heap snapshots: Google Cloud Storage')).toBe('contradiction');
    expect(rel('Need heap snapshots? Grab them from the S3 bucket', 'The pipeline drops heap snapshots into the S3 bucket')).toBe('duplicate');
    // Another artifact's new place says nothing of these.
    expect(rel(old, 'Build logs: old location retired, use the team Dropbox')).toBe('distinct');
  });

  it('reads killing or not exposing a feature as turning it off', () => {
    expect(rel('The Frankfurt edge nodes must not expose session replay', 'We killed session replay on the Frankfurt edge nodes')).toBe('duplicate');
    expect(rel('Session replay: off for the Frankfurt edge nodes until further notice', 'Leave session replay flagged on for the Frankfurt edge nodes')).toBe('contradiction');
  });
});
