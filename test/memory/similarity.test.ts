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
