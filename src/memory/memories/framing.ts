// Owns telling, by its place in a clause, an open-class word that frames a statement from one that
// names what the statement is about. The word lists (lexicon.ts) hold the framing words English
// shares; a paraphrase brings framing words no list holds ("X is the home of Y", "check P for Y",
// "the checklist for A starts with B"). What marks them is grammar, not the word:
//   - a participle or adjective after a linking verb ("are published to", "is planned", "is available");
//   - a relational noun between a determiner and of/for ("the home of", "our choice for", "a prerequisite for", "is part of");
//   - a verb that takes a preposition, as an imperative or after a subject or a modal ("Stick to
//     pnpm", "we rely on Redis"); a verb with a direct object is left alone: in "warm the cache"
//     or "it leaks a connection" the verb is the step or the symptom, and only meaning tells
//     "check the drive" (framing) from "clear the cache" (content), which grammar cannot;
//   - an adverb made from an adjective ("locally", "manually").
// Only a lone word can be framing (an adverb aside): a word beside another open-class word is part of a name ("legal
// drive", "seat reservations", "billing tests"), and a name-shaped word (a capital inside the
// sentence, digits, `_`, `/`, `.`) is always what the statement is about. The caller adds one more
// guard (similarity.ts): a word that stands where the other memory has another word, with the same
// words on both sides of it, was substituted, whatever its place says.

const words = (text: string): Set<string> => new Set(text.trim().split(/\s+/));

/** Verbs that link a subject to a predicate: what follows them describes, it does not name. */
const LINKING = words(`is are was were be been being am get gets got getting become becomes became seem seems stay stays remain remains`);
const DETERMINERS = words(`a an the this that these those our your their my its his her each every any some no not never`);
const PREPOSITIONS = words(`to of for in on at by with from into onto about over under through via`);
const SUBJECTS = words(`we you they i he she it one`);
const MODALS = words(`will would shall should can could may might must do does did`);
/** Adverbs that may stand between a linking verb and its predicate ("is no longer planned", "are always published"). */
const BETWEEN = words(`not never no always also now usually often sometimes still already just only then first`);

/** Adjectives of order before a relational noun ("the new home of"), and those that say the value is the present one. */
const ORDER = words(`new old current previous former latest usual`);
const NEW = words(`new current latest`);
/** A participle or an adjective made from a verb: published, copied, planned, available, reusable. */
const PREDICATE_FORM = /(?:ed|en|able|ible)$/;
/** An adverb made from an adjective: locally, manually, automatically, carefully (not dragonfly, assembly). */
const ADVERB_FORM = /(?:al|ful|ous|ive|ent|ant|less|ate|ed|ing)ly$/;

export interface ClauseWord {
  /** The word, lower case, as the rules read it. */
  word: string;
  /** Not a function word, negator, listed framing or polar word, nor a number: could be an anchor. */
  open: boolean;
  /** Shaped like a name: a capital inside the sentence, digits, `_`, `/` or `.`. */
  named: boolean;
}

function previousOf(clause: readonly ClauseWord[], i: number): string | undefined {
  let j = i - 1;
  while (j >= 0 && BETWEEN.has(clause[j]!.word)) j--;
  return clause[j]?.word;
}

/** What a clause's grammar says: its framing words, and whether it names a new value ("the new home of X is Y"). */
export interface ClauseFraming {
  positions: Set<number>;
  /** The index of the linking verb after "the new/current <relational noun> of X": what follows it is the new value. */
  newValueAt?: number;
}

/** A relational noun after a determiner (and maybe an adjective of order): "the home of", "our new choice for". */
function relational(clause: readonly ClauseWord[], i: number): 'plain' | 'new' | undefined {
  const after = clause[i + 1]?.word;
  if (after !== 'of' && after !== 'for') return undefined;
  const before = clause[i - 1]?.word;
  if (before !== undefined && (DETERMINERS.has(before) || LINKING.has(before))) return 'plain';
  if (before !== undefined && ORDER.has(before) && DETERMINERS.has(clause[i - 2]?.word ?? '')) return NEW.has(before) ? 'new' : 'plain';
  return undefined;
}

/**
 * The positions of a clause's open words that its grammar marks as framing. `first` says the clause
 * opens its sentence (where an imperative stands).
 */
export function framingPositions(clause: readonly ClauseWord[], first: boolean): ClauseFraming {
  const positions = new Set<number>();
  let newValueAt: number | undefined;
  const open = (j: number) => clause[j]?.open === true && !ORDER.has(clause[j]!.word);
  clause.forEach((token, i) => {
    if (!token.open || token.named) return;
    // An adverb made from an adjective ("test it locally") frames wherever it stands.
    if (ADVERB_FORM.test(token.word)) {
      positions.add(i);
      return;
    }
    // A word beside another open word is part of a name.
    if (open(i - 1) || open(i + 1)) return;
    const before = clause[i - 1]?.word;
    const after = clause[i + 1]?.word;
    const linked = previousOf(clause, i);
    const relation = relational(clause, i);
    if (relation) {
      positions.add(i);
      if (ORDER.has(before ?? '')) positions.add(i - 1);
      // "The new home of the flame graphs is the legal drive": the value after the linking verb is new.
      const link = clause.findIndex((word, j) => j > i && LINKING.has(word.word));
      if (relation === 'new' && link > 0) newValueAt = link;
    } else if (linked !== undefined && LINKING.has(linked) && PREDICATE_FORM.test(token.word)) positions.add(i);
    // An imperative or a verb after its subject that takes a preposition: "Stick to pnpm", "we rely on Redis".
    else if (first && i === 0 && after !== undefined && PREPOSITIONS.has(after)) positions.add(i);
    else if (before !== undefined && (SUBJECTS.has(before) || MODALS.has(before)) && after !== undefined && PREPOSITIONS.has(after)) positions.add(i);
  });
  return newValueAt === undefined ? { positions } : { positions, newValueAt };
}

/**
 * Words written as names in the original text (before it is lower-cased): a capital inside the
 * sentence (Backstage after its first word, SharePoint), digits, `_`, `/` or `.` inside a word. Returned in
 * lower case, split the way the rules split words.
 */
export function namedWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const sentence of text.split(/[.;!?\n]+(?:\s|$)|:\s/)) {
    const tokens = sentence.match(/[A-Za-z0-9_./-]+/g) ?? [];
    tokens.forEach((token, i) => {
      const body = i === 0 ? token.slice(1) : token;
      if (!/[A-Z]/.test(body) && !/[0-9_/.]/.test(token.replace(/[./]+$/, ''))) return;
      for (const part of token.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9-]+/)) {
        if (part) out.add(part.replace(/-/g, ''));
      }
    });
  }
  return out;
}
