// Generates the merge benchmark's pairs of memories from the facts (facts.ts), seeded, per split:
//   paraphrase    — one fact said two ways (or its negation said two ways): should merge (200)
//   contradiction — a fact and its opposite, or a new value for it: the second should supersede the first
//   compatible    — two facts that hold together and differ in one slot ("needs Redis" / "needs
//                   Kafka"): must stay apart (the hard negatives)
//   unrelated     — two facts of the same memory type about different things: must stay apart
// Pairs are grouped into projects; within one project no two pairs share a subject (facts.ts),
// so the truth of every pair holds even with the other pairs' memories around.
import { KINDS, negatives, positives, slotValues, valueChanges, type FactKind, type SlotValue, type Split } from './facts.js';

export type PairClass = 'paraphrase' | 'contradiction' | 'compatible' | 'unrelated';

/** Every split, oldest first: the newest is the one no rule or fitted weight has seen (GOAL_SPLIT). */
export const SPLITS: Split[] = ['tuning', 'validation', 'test', 'fresh', 'fresh2', 'fresh3', 'fresh4'];
/** The newest split whose mistakes no rule was written with in view and no weight was fitted on. */
export const GOAL_SPLIT: Split = 'fresh4';
export const SPLIT_SEEDS: Record<Split, number> = { tuning: 1, validation: 2, test: 3, fresh: 4, fresh2: 5, fresh3: 6, fresh4: 7 };
/** Pairs per split, by class. */
export const MERGE_COUNTS: PairCounts = { paraphrase: 160, contradiction: 100, compatible: 100, unrelated: 60 };

export interface BenchMemory {
  type: string;
  content: string | Record<string, unknown>;
}

export interface MemoryPair {
  project: string;
  pairClass: PairClass;
  kind: string;
  first: BenchMemory;
  second: BenchMemory;
}

export interface PairCounts {
  paraphrase: number;
  contradiction: number;
  compatible: number;
  unrelated: number;
}

type Random = () => number;
type Slots = Record<string, SlotValue>;

function picker(random: Random) {
  return <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new Error('nothing to pick from');
    return items[Math.floor(random() * items.length)]!;
  };
}

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `{slot}`, `{slot:form}`; a capital first letter in the slot name capitalises the value. */
export function render(template: string, slots: Slots): string {
  const text = template.replace(/\{([A-Za-z]+)(?::([a-z]+))?\}/g, (_match, name: string, form: string | undefined) => {
    const slot = slots[name.charAt(0).toLowerCase() + name.slice(1)];
    if (!slot) throw new Error(`template "${template}" names an unknown slot ${name}`);
    const value = form ? slot.forms?.[form] : slot.text;
    if (value === undefined) throw new Error(`slot ${name} has no form ${form}`);
    return name.charAt(0) === name.charAt(0).toUpperCase() ? capitalise(value) : value;
  });
  return capitalise(text);
}

function memory(kind: FactKind, template: string, slots: Slots): BenchMemory {
  if (kind.json) return { type: kind.type, content: kind.json(slots, Number(template.replace('json:', ''))) };
  return { type: kind.type, content: render(template, slots) };
}

function sampleSlots(kind: FactKind, split: Split, pick: ReturnType<typeof picker>): Slots {
  if (kind.group) return kind.group(pick, split);
  return Object.fromEntries(Object.keys(kind.slots).map((name) => [name, pick(slotValues(kind, name, split))]));
}

/** Another value for one slot, from the same split. */
function otherValue(kind: FactKind, slot: string, current: Slots, split: Split, pick: ReturnType<typeof picker>): SlotValue {
  if (kind.vary) return kind.vary(slot, current, pick);
  const others = slotValues(kind, slot, split).filter((value) => value.text !== current[slot]!.text);
  return pick(others);
}

function subjectKey(kind: FactKind, slots: Slots): string {
  return `${kind.name}|${kind.subject.map((s) => slots[s]!.text).join('|')}`;
}

function twoDistinct<T>(items: readonly T[], pick: ReturnType<typeof picker>): [T, T] {
  const a = pick(items);
  if (items.length < 2) return [a, a];
  let b = pick(items);
  while (b === a) b = pick(items);
  return [a, b];
}

interface Drafted {
  pair: Omit<MemoryPair, 'project'>;
  subjects: string[];
}

function draft(pairClass: PairClass, split: Split, random: Random): Drafted {
  const pick = picker(random);
  switch (pairClass) {
    case 'paraphrase': {
      const kind = pick(KINDS);
      const slots = sampleSlots(kind, split, pick);
      const negative = negatives(kind, split);
      // Sometimes the fact's negation said two ways ("X is disabled" / "X is turned off").
      const templates = negative.length >= 2 && random() < 0.3 ? negative : positives(kind, split);
      const [a, b] = twoDistinct(templates, pick);
      return { pair: { pairClass, kind: kind.name, first: memory(kind, a, slots), second: memory(kind, b, slots) }, subjects: [subjectKey(kind, slots)] };
    }
    case 'contradiction': {
      const kind = pick(KINDS);
      const slots = sampleSlots(kind, split, pick);
      const positive = pick(positives(kind, split));
      if (kind.valueChange) {
        const changed = { ...slots, [kind.valueChange.slot]: otherValue(kind, kind.valueChange.slot, slots, split, pick) };
        const second = memory(kind, pick(valueChanges(kind, split)), changed);
        return { pair: { pairClass, kind: kind.name, first: memory(kind, positive, slots), second }, subjects: [subjectKey(kind, slots)] };
      }
      const negative = pick(negatives(kind, split));
      const [a, b] = random() < 0.35 ? [negative, positive] : [positive, negative];
      return { pair: { pairClass, kind: kind.name, first: memory(kind, a, slots), second: memory(kind, b, slots) }, subjects: [subjectKey(kind, slots)] };
    }
    case 'compatible': {
      const kind = pick(KINDS);
      const slots = sampleSlots(kind, split, pick);
      const slot = pick(kind.compatible);
      const other = { ...slots, [slot]: otherValue(kind, slot, slots, split, pick) };
      const templates = positives(kind, split);
      // The same phrasing half the time: the hardest case, only the changed slot differs.
      const a = pick(templates);
      const b = random() < 0.5 ? a : pick(templates);
      return { pair: { pairClass, kind: kind.name, first: memory(kind, a, slots), second: memory(kind, b, other) }, subjects: [subjectKey(kind, slots), subjectKey(kind, other)] };
    }
    case 'unrelated': {
      // Two facts of the same memory type (only those are ever compared): other kinds, or the same kind about other things.
      const first = pick(KINDS);
      const sameType = KINDS.filter((k) => k.type === first.type && k !== first);
      const second = sameType.length > 0 && random() < 0.5 ? pick(sameType) : first;
      const a = sampleSlots(first, split, pick);
      let b = sampleSlots(second, split, pick);
      for (let tries = 0; second === first && Object.keys(a).some((s) => a[s]!.text === b[s]?.text) && tries < 50; tries++) b = sampleSlots(second, split, pick);
      return {
        pair: {
          pairClass,
          kind: first === second ? first.name : `${first.name} / ${second.name}`,
          first: memory(first, pick(positives(first, split)), a),
          second: memory(second, pick(positives(second, split)), b),
        },
        subjects: [subjectKey(first, a), subjectKey(second, b)],
      };
    }
  }
}

/** A split's pairs as the benchmark draws them for a seed, and the random source that goes on (the posting order). */
export function benchPairs(split: Split, seed: number, seeded: (seed: number) => Random): { pairs: MemoryPair[]; random: Random } {
  const random = seeded(seed * 1_000_003 + SPLIT_SEEDS[split]);
  return { pairs: generatePairs(split, MERGE_COUNTS, seed, random), random };
}

/** The pairs of one split, `perProject` to a project, every class in proportion, in a seeded order. */
export function generatePairs(split: Split, counts: PairCounts, seed: number, random: Random, perProject = 20): MemoryPair[] {
  const classes = shuffle(
    (Object.entries(counts) as Array<[PairClass, number]>).flatMap(([pairClass, n]) => Array.from({ length: n }, () => pairClass)),
    random,
  );
  const pairs: MemoryPair[] = [];
  let used = new Set<string>();
  classes.forEach((pairClass, i) => {
    if (i % perProject === 0) used = new Set();
    const project = `mq-${split}-${seed}-${Math.floor(i / perProject)}`;
    for (let tries = 0; ; tries++) {
      const { pair, subjects } = draft(pairClass, split, random);
      if (subjects.some((s) => used.has(s))) {
        if (tries > 500) throw new Error(`could not draw a ${pairClass} pair with fresh subjects for ${project}`);
        continue;
      }
      for (const s of subjects) used.add(s);
      pairs.push({ ...pair, project });
      return;
    }
  });
  return pairs;
}
