// Owns how a new memory relates to an existing one of the same project and type: a near-duplicate
// (merged into it), a contradiction (supersedes it) or distinct. A wrong merge takes a memory out of
// recall, a missed one only leaves a near-duplicate beside it, so every rule leans to "distinct".
//
// JSON memories are compared by their fields (keys dotted as render.ts flattens them):
//   - a top-level id (`id`, `*_id`, `*Id`) that differs: about different things (two jobs' outcomes);
//   - every shared field equal (and the shared keys cover the smaller object, or most of each; the
//     rest are notes one side added): a duplicate;
//   - exactly one shared field differs, the others equal: a contradiction when both values are a
//     quantity or a flag (the fact's value changed: 30 → 60, true → false), the text rules when both
//     are sentences; otherwise the field names what the memory is about (billing → search): distinct;
//   - several differ: distinct;
//   - no shared keys, or too few to say: the text rules on the values' words.
//
// Text is read as (lexicon.ts): anchors, the open-class words a memory is about (Redis, billing,
// pnpm, reports/ folder), framing words (light verbs, needing and storing verbs, time adverbs,
// generic nouns), and polarity (negators and polar words on three axes: assert, enable, pass).
// Framing words no list holds are told by their place in the clause (framing.ts): a relational noun
// ("the home of"), a participle after a linking verb ("are published to"), an adverb ("locally"),
// a verb taking a preposition ("stick to"); a word beside another open word (a multiword name) or
// shaped like a name is never framing. Such a word pairs with the same word on the other side and
// is no extra when it pairs with nothing; but a word swapped in place (all around it equal) is a
// substitution, whatever its place. Two texts are about the same thing when their anchors match
// (stems, and prefixes for the morphology a light stemmer misses) with no substitution (each side
// holding anchors the other lacks: Redis ↔ Kafka, staging ↔ production) and enough overlap. About
// the same thing, they contradict when their polarity or their numbers differ, else they are
// duplicates; a denial of all of a shorter statement may come with a longer detail (a symptom). A
// substitution is a contradiction only when a one-sentence statement of a change ("X now go to Y
// instead", "the new home of X is Y", "X: old location retired, use Y") keeps the other's subject
// and gives it a new value; a clause of it that says no ("..., not the S3 bucket", "P is
// deprecated, use Q") names the old value, which the other may hold. The same words (a
// redelivery) are a duplicate.
//
// A failure that follows from a thing's absence ("without X", "unless X", "when X is down", "if
// not, expect red") says the thing is needed; a test double as a verb ("mock X", "stub out X")
// replaces it. A compound matches its parts said apart (payment-provider ↔ payment providers,
// rollback ↔ roll back).
//
// Measured with the offline hash embedder (bench/memoryQuality.ts, seed 1): merge precision 1.000
// on every split; recall 0.996 tuning, 0.981 validation, 0.996 test, 0.962 fresh, 0.962 fresh2
// (fresh2 was 0.658 when measured blind; dependence, precedence and relocation wording was then
// added by category, with fresh2's mistakes in view). What is left: a detail only one side
// names ("on CI", "CI pushes" ↔ "the pipeline drops"), nominalisations that change the words (a
// GDPR erasure ↔ erasing a customer's data), a flakiness said only by its symptom, "rolled back"
// (a feature turned off, or a release step).
import { framingPositions, namedWords } from './framing.js';
import { flattenJson, type MemoryContent } from './render.js';
import { ABSENCE, buildLexicon, CHANGE_MARKERS, CONDITIONS, FUNCTION_WORDS, IRREGULAR, NEGATORS, PHRASES, SYNONYMS, TIME_UNITS, type Axis } from './lexicon.js';

/**
 * The cosine of the two embeddings must be at least this for any merge: a loose topical check
 * (the offline hash embedder scores some paraphrases as low as 0.25); the lexical rules separate.
 */
export const MIN_COSINE = 0.2;
/** Matched anchors over all anchors of both (a Jaccard that counts a morphological match as equal). */
export const MIN_ANCHOR_OVERLAP = 0.5;
/**
 * The overlap a statement needs with one that holds all its anchors and says the opposite: the
 * longer may add a detail up to twice as long as what they share.
 */
export const MIN_DENIAL_OVERLAP = 1 / 3;
/** Anchors both must share: one shared word is not a subject. */
export const MIN_SHARED_ANCHORS = 2;
/** A JSON string field this many words long is a sentence, read with the text rules. */
const SENTENCE_WORDS = 4;

export type Relation = 'duplicate' | 'contradiction' | 'distinct';

export interface LexicalView {
  /** The text as the rules read it (lower case, phrases folded), for telling a verbatim repeat. */
  normalised: string;
  /** What the memory is about: stemmed open-class words, numbers apart; a word said twice counts twice. */
  anchors: string[];
  /** Open-class words that frame the statement by their place in it (framing.ts), with the words around them. */
  framing: FramingWord[];
  numbers: Set<string>;
  polarity: 1 | -1;
  /**
   * A statement of a change ("X now go to Y", "X moved to Y"): its anchors before the last
   * to/in/into/onto (what changed) and after it (the new value).
   */
  change?: { subject: string[]; value: string[]; old: string[] };
  /** One sentence: a single fact. */
  simple: boolean;
  /** Flattened scalar values of JSON content, by dotted key; undefined for text. */
  fields?: Map<string, string>;
  /** JSON content: the view of its values' words alone. */
  values?: LexicalView;
}

export interface FramingWord {
  term: string;
  /** The words before and after it ("the _ of"): where it stands. */
  context: string;
}

const VOWEL = /[aeiouy]/;

/**
 * installing/installed/installs → install, dependencies → dependency, running → run, used/using/uses → us,
 * stored/storing/store → stor. Not a full stemmer: only the inflections that paraphrases use;
 * anchor matching adds prefixes for the rest (validation ↔ validat).
 */
export function stem(word: string): string {
  if (/^\d/.test(word) || word.length <= 2) return word;
  let w = word;
  if (/ies$/.test(w) && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/sses$/.test(w)) w = w.slice(0, -2);
  else if (/(ch|sh|x|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('ing') && w.length > 4 && VOWEL.test(w.slice(0, -3))) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length > 3 && !w.endsWith('eed') && VOWEL.test(w.slice(0, -2))) w = undouble(w.slice(0, -2));
  else if (w.endsWith('s') && w.length > 3 && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length >= 3) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  return /([^aeioulsz])\1$/.test(w) ? w.slice(0, -1) : w;
}

const LEXICON = buildLexicon(stem);
/** Prepositions before the new value in a statement of a change ("moved to", "now land in"). */
const DESTINATIONS = new Set(['to', 'into', 'onto', 'in']);

/**
 * A test double as a verb ("the tests mock Redis now", "stub out the mailer") stands in for the
 * thing: it replaces it. Not as a noun ("the mock server") nor inside a name (MockServer, stripe-mock).
 */
const TEST_DOUBLE_VERB = /(?<!\b(?:the|a|an|our|your|their|this|that|its|one)\s+)(?<![-\w])(?:[Mm]ock|[Ss]tub|[Ff]ake)(?:s|ed|bed|ing|bing)?(?:\s+out)?\b(?!-)/g;

function normalise(text: string): string {
  let normalised = text
    .replace(TEST_DOUBLE_VERB, 'replace')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/\bcan't\b/g, 'cannot')
    .replace(/\bwon't\b/g, 'will not')
    .replace(/n't\b/g, ' not')
    .replace(/'ll\b/g, ' will')
    .replace(/'re\b/g, ' are')
    .replace(/'ve\b/g, ' have')
    .replace(/'d\b/g, ' would')
    .replace(/'m\b/g, ' am')
    .replace(/'s\b/g, '')
    .replace(/\bdon ?not\b/g, 'do not');
  for (const [pattern, replacement] of PHRASES) normalised = normalised.replace(pattern, replacement);
  return normalised;
}

/** Sentences, then clauses: the scope of a negator. "or" opens a clause of its own (a consequence: see sentencePolarity). */
function clausesOf(sentence: string): string[][] {
  return sentence
    .split(/[,:()]|\b(?=or\b)|\b(?:but|because|although|though|whereas)\b/)
    // A hyphenated compound is one word (end-to-end, rate-limit): its parts alone mean something else.
    // A compound ending in a particle is its verb, as when said apart ("a scale-down" / "scale the cluster down").
    .map((clause) => (clause.match(/[a-z0-9]+(?:-[a-z0-9]+)*/g) ?? []).map((word) => word.replace(/-(?:down|up|off|over|back)$/, '').replace(/-/g, '')))
    .filter((clause) => clause.length > 0);
}

interface Contribution {
  axis: Axis;
  sign: 1 | -1;
}

/** A polar word's axis and sign, from its surface form. */
function polarOf(word: string): [Axis, 1 | -1] | undefined {
  return LEXICON.polar.get(stem(SYNONYMS.get(word) ?? IRREGULAR.get(word) ?? word));
}

/** The polar contributions of one sentence: each polar word's sign, flipped by a negator before it in its clause. */
function sentencePolarity(clauses: string[][]): Contribution[] {
  const out: Contribution[] = [];
  let failure = false;
  let conditional = false;
  // A condition opened (if, when) in this sentence: an absence after it ("when Redis is down") is one.
  let condition = false;
  for (const [index, clause] of clauses.entries()) {
    let negated = false;
    for (const word of clause) {
      if (word === 'without' || word === 'unless' || word === 'otherwise' || word === 'else' || (word === 'or' && index > 0 && clause[0] === 'or')) conditional = true;
      if (CONDITIONS.has(word)) condition = true;
      if (condition && ABSENCE.has(word)) conditional = true;
      if (NEGATORS.has(word)) {
        negated = !negated;
        continue;
      }
      if (FUNCTION_WORDS.has(word)) continue;
      const polar = polarOf(word);
      if (!polar) continue;
      const sign = (negated ? -polar[1] : polar[1]) as 1 | -1;
      if (polar[0] === 'pass' && sign === -1) failure = true;
      out.push({ axis: polar[0], sign });
      negated = false;
    }
    // A negator with no polar word after it negates the statement ("we no longer deploy on Fridays").
    if (negated) out.push({ axis: 'assert', sign: -1 });
  }
  // "Without Redis the tests fail", "Redis must be up or the tests break", "the tests hang when
  // Redis is down": a failure as the consequence of a missing thing says the thing is needed.
  if (failure && conditional) return [{ axis: 'assert', sign: 1 }];
  return out;
}

function polarityOf(contributions: Contribution[]): 1 | -1 {
  const sums = new Map<Axis, { sum: number; last: 1 | -1 }>();
  for (const { axis, sign } of contributions) {
    const entry = sums.get(axis) ?? { sum: 0, last: sign };
    sums.set(axis, { sum: entry.sum + sign, last: sign });
  }
  let polarity: 1 | -1 = 1;
  for (const { sum, last } of sums.values()) {
    const sign = sum === 0 ? last : Math.sign(sum);
    if (sign < 0) polarity = polarity === 1 ? -1 : 1;
  }
  return polarity;
}

/** An open-class word that could name what a memory is about, before its place in the clause is read. */
function openTerm(word: string, previous: string | undefined): string | undefined {
  if (/^\d/.test(word) || word.length < 2 || FUNCTION_WORDS.has(word) || NEGATORS.has(word)) return undefined;
  const term = stem(SYNONYMS.get(word) ?? IRREGULAR.get(word) ?? word);
  // An inflected particle or pronoun ("backing up"): a function word still.
  if (FUNCTION_WORDS.has(term)) return undefined;
  if (LEXICON.polar.has(term) || LEXICON.framing.has(term)) return undefined;
  if (TIME_UNITS.has(word) && !/^\d/.test(previous ?? '')) return undefined; // "for weeks": framing
  return term;
}

export function textView(text: string): LexicalView {
  const anchors: string[] = [];
  const framing: FramingWord[] = [];
  const numbers = new Set<string>();
  const contributions: Contribution[] = [];
  const named = namedWords(text);
  // Where the last destination preposition was among the anchors, for a statement of a change.
  let destination = -1;
  let changes = false;
  // Anchors of a clause that denies ("..., not the S3 bucket", "the wiki is deprecated, use P"): in a
  // statement of a change, the old value.
  const denied = new Set<number>();
  const normalised = normalise(text).replace(/\s+/g, ' ').trim();
  const sentences = normalised
    .split(/[.;!?\n]+/)
    .filter((sentence) => /[a-z0-9]/.test(sentence));
  for (const sentence of sentences) {
    const clauses = clausesOf(sentence);
    contributions.push(...sentencePolarity(clauses));
    clauses.forEach((clause, c) => {
      const terms = clause.map((word, i) => openTerm(word, clause[i - 1] ?? clauses[c - 1]?.at(-1)));
      // A clause that says no (a negator, or an opposite of needing or using: deprecated), apart from the new value's.
      const denies =
        clauses.length > 1 &&
        clause.some((word) => NEGATORS.has(word) || (polarOf(word)?.[0] === 'assert' && polarOf(word)?.[1] === -1)) &&
        !clause.some((word) => DESTINATIONS.has(word));
      const { positions: byPlace, newValueAt } = framingPositions(
        clause.map((word, i) => ({ word, open: terms[i] !== undefined, named: named.has(word) })),
        c === 0,
      );
      clause.forEach((word, i) => {
        if (/^\d/.test(word)) {
          numbers.add(word);
          return;
        }
        // An imperative "use" after the change ("old location retired, use P") names the new value too.
        if (DESTINATIONS.has(word) || i === newValueAt || (c > 0 && i === 0 && word === 'use')) destination = anchors.length;
        if (CHANGE_MARKERS.has(word) || i === newValueAt) changes = true;
        const term = terms[i];
        if (term === undefined) return;
        if (byPlace.has(i)) framing.push({ term, context: `${clause[i - 1] ?? ''} _ ${clause[i + 1] ?? ''}` });
        else {
          if (denies) denied.add(anchors.length);
          anchors.push(term);
        }
      });
    });
  }
  const view: LexicalView = { normalised, anchors, framing, numbers, polarity: polarityOf(contributions), simple: sentences.length === 1 };
  // Only a one-sentence statement: in a longer memory the marker and the destination may be other facts'.
  if (changes && sentences.length === 1 && destination > 0 && destination < anchors.length) {
    const kept = (from: number, to: number) => anchors.slice(from, to).filter((_, k) => !denied.has(from + k));
    const change = { subject: kept(0, destination), value: kept(destination, anchors.length), old: anchors.filter((_, k) => denied.has(k)) };
    if (change.subject.length > 0 && change.value.length > 0) view.change = change;
  }
  return view;
}

/**
 * A JSON memory's view: its fields at once, its words (the rendered text's view, and its values')
 * only when first read. The rules read a JSON memory's words only when its fields do not decide
 * (relate, judgeable), and they mostly do: an outcome of another job is told apart by its id. Reading
 * the words of every new outcome memory cost 0.27 ms of the event loop per write (0.8 under load),
 * inside the write's transaction; now 0.025 ms (an orchestrator outcome, 2,000 in a row).
 */
class JsonView implements LexicalView {
  private whole: LexicalView | undefined;
  private valuesView: LexicalView | undefined;

  constructor(
    private readonly rendered: string,
    private readonly valuesText: string,
    readonly fields: Map<string, string>,
  ) {}

  private get text(): LexicalView {
    return (this.whole ??= textView(this.rendered));
  }

  get normalised(): string {
    return this.text.normalised;
  }

  get anchors(): string[] {
    return this.text.anchors;
  }

  get framing(): FramingWord[] {
    return this.text.framing;
  }

  get numbers(): Set<string> {
    return this.text.numbers;
  }

  get polarity(): 1 | -1 {
    return this.text.polarity;
  }

  get change(): LexicalView['change'] {
    return this.text.change;
  }

  get simple(): boolean {
    return this.text.simple;
  }

  get values(): LexicalView {
    return (this.valuesView ??= textView(this.valuesText));
  }
}

export function lexicalView(content: MemoryContent, rendered: string): LexicalView {
  if (typeof content === 'string') return textView(rendered);
  const flat = flattenJson(content);
  return new JsonView(
    rendered,
    flat.map(([, value]) => value).join('.\n'),
    new Map(flat.map(([key, value]) => [key, value.trim().toLowerCase()])),
  );
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * One word in two forms the stemmer left apart (validat ↔ validation, promot ↔ promotion,
 * standardis ↔ standardiz): a common prefix of five letters or more, three quarters of the shorter.
 * Shorter prefixes are other words (data ↔ database, log ↔ login).
 */
export function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const prefix = commonPrefix(a, b);
  return prefix >= 5 && prefix >= 0.75 * Math.min(a.length, b.length);
}

export interface AnchorMatch {
  /** Pairs of anchors, one of each side (by sameWord). */
  matched: number;
  /** Anchors of each side the other lacks. */
  extraA: number;
  extraB: number;
}

/** Each anchor of one side paired with at most one of the other: the same stem first, then sameWord. */
export function matchAnchors(a: readonly string[], b: readonly string[]): AnchorMatch {
  const left = [...a];
  const right = [...b];
  const matched = pairOff(left, right);
  return { matched, extraA: left.length, extraB: right.length };
}

/** Removes the words of `left` and `right` that pair off (the same stem first, then sameWord); their number. */
function pairOff(left: string[], right: string[]): number {
  let matched = 0;
  for (const exact of [true, false]) {
    for (let i = 0; i < left.length; i++) {
      const j = right.findIndex((word) => (exact ? word === left[i] : sameWord(word, left[i]!)));
      if (j < 0) continue;
      left.splice(i--, 1);
      right.splice(j, 1);
      matched++;
    }
    // Before prefixes: a compound shares one with its first part (paymentprovider ↔ payment).
    if (exact) matched += pairCompounds(left, right) + pairCompounds(right, left);
  }
  return matched;
}

/** The most words a compound is read as ("payment-provider", "end-to-end"). */
const COMPOUND_PARTS = 3;
/** Particles that make a phrasal verb, dropped as function words when said apart. */
const PARTICLES = ['back', 'up', 'out', 'down', 'off', 'over'];

/**
 * A compound on one side written as words in a row on the other ("a payment-provider switch" /
 * "switching payment providers"): one anchor, its parts removed with it.
 */
function pairCompounds(compounds: string[], parts: string[]): number {
  let matched = 0;
  for (let i = 0; i < compounds.length; i++) {
    const compound = compounds[i]!;
    let found: [number, number] | undefined;
    for (let j = 0; j < parts.length && !found; j++) {
      let joined = parts[j]!;
      // A noun made of a verb and its particle ("a rollback", "the cleanup") is the verb said apart ("roll back").
      if (PARTICLES.some((particle) => compound === joined + particle)) {
        found = [j, 1];
        break;
      }
      for (let k = j + 1; k < Math.min(parts.length, j + COMPOUND_PARTS); k++) {
        joined += parts[k]!;
        if (joined.length > compound.length + 2) break;
        if (joined === compound || sameWord(joined, compound)) {
          found = [j, k - j + 1];
          break;
        }
      }
    }
    if (!found) continue;
    compounds.splice(i--, 1);
    parts.splice(...found);
    matched++;
  }
  return matched;
}

/**
 * Two views' anchors paired off; a word one side frames by its place (framing.ts) also pairs with
 * the same word among the other's anchors ("Clear the build cache" / "skipping clearing the build
 * cache"), and is no extra when it pairs with nothing: framing, not what the memory is about.
 */
export function matchViews(a: LexicalView, b: LexicalView): AnchorMatch {
  const left = [...a.anchors];
  const right = [...b.anchors];
  let matched = pairOff(left, right);
  matched += pairOff(a.framing.map((f) => f.term), right);
  matched += pairOff(left, b.framing.map((f) => f.term));
  return { matched, extraA: left.length, extraB: right.length };
}

/** Anchors matched over all anchors: 1 when each side's anchors are all on the other. */
export function anchorOverlap(m: AnchorMatch): number {
  const total = m.matched + m.extraA + m.extraB;
  return total === 0 ? 0 : m.matched / total;
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/**
 * `changed` says that what `other` is about now has another value: all of its subject is in
 * `other`, none of its new value is, and `other` has a value of its own (the old one).
 */
function changedValue(changed: LexicalView, other: LexicalView): boolean {
  // A denied old value ("not the S3 bucket") is the one word of the change that may flip its polarity.
  if (!changed.change || other.change || (changed.polarity !== other.polarity && changed.change.old.length === 0)) return false;
  const { subject, value } = changed.change;
  const m = matchAnchors(subject, other.anchors);
  // The other holds the subject and one value: as many words as the new one, give or take.
  const oldValue = m.extraB;
  if (m.extraA > 0 || m.matched < MIN_SHARED_ANCHORS || oldValue === 0 || oldValue > Math.max(3, 2 * value.length)) return false;
  return matchAnchors(value, other.anchors).matched === 0;
}

/**
 * A word each side frames by its place, different words in the same place ("the logs for billing" /
 * "the traces for billing"): the one thing the two say differently, so a substitution, not framing.
 */
function substitutedInPlace(a: LexicalView, b: LexicalView): boolean {
  const says = (view: LexicalView, term: string) => [...view.anchors, ...view.framing.map((f) => f.term)].some((word) => sameWord(word, term));
  return a.framing.some((x) => b.framing.some((y) => x.context === y.context && !says(b, x.term) && !says(a, y.term)));
}

function relateText(a: LexicalView, b: LexicalView, cosine: number): Relation {
  if (a.normalised === b.normalised) return 'duplicate';
  if (cosine < MIN_COSINE) return 'distinct';
  if (substitutedInPlace(a, b)) return 'distinct';
  const m = matchViews(a, b);
  // A substitution: each side names something the other does not (Redis ↔ Kafka), unless one
  // says that the thing the other is about changed to a new value.
  const changed = changedValue(a, b) || changedValue(b, a);
  if (m.extraA > 0 && m.extraB > 0) return changed ? 'contradiction' : 'distinct';
  // All one side says in the other, which names it as the old value of a change ("X: P is deprecated, use Q").
  if (changed) return 'contradiction';
  // One shared word is a subject only when it is all either says ("use pnpm" / "pnpm, always").
  const sameAnchors = m.matched > 0 && m.extraA === 0 && m.extraB === 0;
  if (m.matched < MIN_SHARED_ANCHORS && !sameAnchors) return 'distinct';
  // The opposite claim about all of what the shorter says, the longer adding a detail (a symptom,
  // a reason): "X is reliable again" / "X is flaky: it gets a connection reset from the mock server".
  const denies = a.polarity !== b.polarity && (m.extraA === 0 || m.extraB === 0);
  if (anchorOverlap(m) < (denies ? MIN_DENIAL_OVERLAP : MIN_ANCHOR_OVERLAP)) return 'distinct';
  // About the same thing: another number is a new value, another polarity the opposite claim.
  const numbered = a.numbers.size > 0 && b.numbers.size > 0;
  if (numbered && !sameSet(a.numbers, b.numbers)) return 'contradiction';
  if (a.polarity !== b.polarity) return 'contradiction';
  return 'duplicate';
}

// ---- JSON ---------------------------------------------------------------------------------------

/** A top-level key that identifies a record: `id`, `job_id`, `ticket-id`, `jobId`, `uuid`. */
export function isIdKey(key: string): boolean {
  return !key.includes('.') && (/^(?:id|uuid)$/i.test(key) || /[_-](?:id|uuid)$/i.test(key) || /[a-z0-9](?:Id|ID|Uuid)$/.test(key));
}

const FLAGS = new Set(['true', 'false', 'yes', 'no', 'on', 'off', 'enabled', 'disabled', 'null', 'none']);

/** A number (with a short unit: "30", "2.5 s", "512mb", "90%") or a flag: the value of a setting, not a name. */
function quantityOrFlag(value: string): boolean {
  return FLAGS.has(value) || /^[-+]?\d[\d.,_]*\s*[a-z%]{0,8}$/.test(value);
}

function wordCount(value: string): number {
  return value.match(/[a-z0-9]+/g)?.length ?? 0;
}

/** The relation by fields, or undefined when the keys say too little and the words must decide. */
function relateFields(a: Map<string, string>, b: Map<string, string>, cosine: number): Relation | undefined {
  let equal = 0;
  const differing: Array<[string, string]> = [];
  for (const [key, value] of a) {
    const other = b.get(key);
    if (other === undefined) continue;
    if (other === value) equal++;
    else {
      if (isIdKey(key)) return 'distinct';
      differing.push([value, other]);
    }
  }
  const shared = equal + differing.length;
  // The same record: the shared keys are all of the smaller object's, or most of each (the rest notes).
  const sameShape = shared > 0 && (shared === Math.min(a.size, b.size) || (shared * 2 > a.size && shared * 2 > b.size));
  if (!sameShape) return undefined;
  if (differing.length === 0) return 'duplicate';
  if (differing.length > 1 || equal === 0) return 'distinct';
  const [x, y] = differing[0]!;
  if (quantityOrFlag(x) && quantityOrFlag(y)) return 'contradiction';
  if (wordCount(x) >= SENTENCE_WORDS && wordCount(y) >= SENTENCE_WORDS) return relateText(textView(x), textView(y), cosine);
  return 'distinct';
}

export function relate(incoming: LexicalView, existing: LexicalView, cosine: number): Relation {
  if (incoming.fields && existing.fields) {
    const byFields = relateFields(incoming.fields, existing.fields, cosine);
    if (byFields) return byFields;
  }
  return relateText(incoming.values ?? incoming, existing.values ?? existing, cosine);
}
