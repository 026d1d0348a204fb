// Owns the English word lists the memory relation rules (similarity.ts) read. Each list is a
// closed class of English or a category of the words a lesson is *framed* with, written from what
// the category holds in general, not from the benchmark's sentences:
//   - function words: articles, pronouns, prepositions, conjunctions, auxiliaries, quantifiers;
//   - negators, which flip the next polar word of their clause (or the statement when none follows):
//     not and its kin, the verbs of ceasing (stop, skip, drop, avoid, remove, replace) and of
//     ending (kill, scrap, ditch, abandon);
//   - polar words, on three axes: assert (a need, a use, a permission, and their opposites),
//     enable (on/off, exposing), pass (works/fails, stable/flaky, deterministic/random, its
//     symptoms and colours: hangs, red; the bad experience a lesson comes from: got burned);
//   - framing words: light verbs, verbs of needing, using, keeping and storing, putting and
//     fetching, moving and changing, ordering in time (gates, pre-flight, runbook, step), noting,
//     perceiving; hedges, time adverbs and generic nouns ("team", "repo", "instance", "container");
//   - absence words after a condition ("when X is down"), and idioms folded to plain words (phrasal
//     verbs of starting and removing, "if not", "feel free to", "until further notice", "pre-").
// What a lesson is *about* (its anchors: Redis, billing, pnpm, the reports/ folder) is every other
// word: open-class, so no list of it is needed or possible. Lists hold surface forms; lookups go
// through the same stemmer as the text (stem()), so inflections need not be listed.

export type Axis = 'assert' | 'enable' | 'pass';

const words = (text: string): string[] => text.trim().split(/\s+/);

/** Closed-class words: they carry grammar, not meaning. Matched before stemming. */
export const FUNCTION_WORDS = new Set(
  words(`
    a an the this that these those there here it its itself they them their theirs we our ours us you your yours i me my mine
    he him his she her one ones someone anyone everyone somebody anybody everybody something anything everything
    is are was were be been being am do does did doing done has have had having will would shall should can could may might must
    ought to of in on at for by with from into onto upon about as than so then also just only very quite rather really actually
    basically simply and or but if because since while when whenever where wherever which who whom whose what how why whether
    any all some each every both either few many much more most other another such same own unless
    via per through over under again still yet already even too up out off down away back
    around along across behind beside besides between among amongst within near toward towards against
    please let lets make sure sure okay ok otherwise else
  `),
);

/** Words that negate: the next polar word of their clause, or else the statement. */
export const NEGATORS = new Set(
  words(`
    not no never without nor neither none nobody nothing cannot
    avoid avoids avoided avoiding stop stops stopped stopping quit quits cease ceased skip skips skipped skipping
    drop drops dropped dropping remove removes removed removing replace replaces replaced replacing
    kill kills killed killing scrap scraps scrapped scrapping ditch ditches ditched ditching abandon abandons abandoned abandoning
    axe axed nix nixed
  `),
);

/** Surface words, with a sign, per axis. */
const POLAR_LISTS: Array<[Axis, 1 | -1, string]> = [
  // Needing, using, choosing, permitting: the default axis of a lesson.
  ['assert', 1, `need needs needed needing require requires required requiring requirement mandatory necessary essential
    depend depends depended depending rely relies relied relying expect expects expected expecting
    use uses used using prefer prefers preferred choose chooses chose chosen adopt adopted standardise standardised standardize standardized
    allow allows allowed permit permits permitted`],
  ['assert', -1, `optional unnecessary unneeded unused deprecated obsolete forbid forbids forbidden forbade prohibit prohibits prohibited
    ban bans banned disallow disallowed deny denies denied`],
  ['enable', 1, `enable enables enabled enabling active activate activated true yes expose exposes exposed exposing`],
  ['enable', -1, `disable disables disabled disabling inactive deactivate deactivated false`],
  ['pass', 1, `work works worked pass passes passed passing succeed succeeds succeeded success successful green stable reliable fix fixes fixed
    patch patches patched deterministic`],
  // Failing, and its symptoms and colours (a hang, a red build), chance (at random), and the bad
  // experience a lesson is learned from ("got burned", "bitten").
  ['pass', -1, `fail fails failed failing failure failures break breaks broke broken flaky flakey flake flakes flakiness
    intermittent intermittently unreliable unstable crash crashes crashed hang hangs hung hanging stall stalls stalled red
    random randomly nondeterministic burn burned burnt bitten`],
];

/** Framing: how a lesson is said rather than what it is about. */
const FRAMING_LIST = words(`
  use run runs ran running go goes went gone get gets got gotten put keep keeps kept take takes took taken give gives gave
  come comes came become becomes became have has had make makes made let lets bring brings brought
  must should has have got ought important careful remember note noted notes notice noticed mind heads watch beware fyi tip tips
  know known learn learned learnt lesson lessons see sees seen saw observe observed spot spotted bother
  leave leaves stick sticks pick picks picked choice favourite favorite
  handle handles handled own owns responsible charge care manage manages managed cover covers deal deals
  reach reaches turn turns talk talks call calls contact contacts assume assumes
  spin spins start starts started starting boot boots launch
  live lives living stay stays stayed remain remains remained reside resides exist exists
  hold holds held store stores stored storing save saves saved saving keep write writes wrote written writing
  land lands landed find finds found look looks located location
  move moves moved moving switch switches switched relocate relocated migrate migrated transfer transferred
  retire retires retired sit sits sat locate located
  push pushes pushed upload uploads uploaded publish publishes published
  grab grabs grabbed fetch fetches fetched retrieve retrieves retrieved
  change changes changed changing update updates updated set sets setting raise raised lower lowered
  increase increased decrease decreased reduce reduced bump bumped configure configured equal equals
  cut cuts trim trims trimmed tune tunes tuned retune retuned tweak tweaks tweaked
  now currently anymore instead lately recently today nowadays henceforth since immediately
  before after first then next later prior ahead until once earlier beforehand afterwards meanwhile
  precede precedes follow follows wait waits waited happen happens happened gate gates gated
  step steps runbook checklist playbook procedure preflight prerequisite prerequisites precondition prereq
  always usually often sometimes occasionally generally typically normally odd occasional
  fine acceptable good bad better best worse worst ok okay great wrong right
  team teams we repo repos repository repositories codebase project projects thing things stuff way ways rule rules
  practice practices policy convention conventions instance instances container containers setup suite place tool tools
  real actual proper dedicated local old former previous
  decide decided decision agree agreed want wants wanted try tries tried able
  whatever whichever everywhere somewhere anywhere nowhere
`);

/**
 * Units of time: the unit of a value after a number ("30 days"), framing otherwise ("stable for
 * weeks", "every day").
 */
export const TIME_UNITS = new Set(words(`second seconds minute minutes hour hours day days week weeks month months year years`));

/** Words read as another word before stemming: spellings and jargon for the same thing. */
export const SYNONYMS = new Map<string, string>([
  ['spec', 'test'], ['specs', 'test'], ['flakey', 'flaky'],
]);

/** Irregular forms the suffix rules cannot reach. */
export const IRREGULAR = new Map([
  ['wrote', 'write'], ['written', 'write'], ['went', 'go'], ['gone', 'go'], ['goes', 'go'], ['built', 'build'], ['ran', 'run'],
  ['kept', 'keep'], ['found', 'find'], ['took', 'take'], ['taken', 'take'], ['chose', 'choose'], ['chosen', 'choose'], ['did', 'do'],
  ['done', 'do'], ['began', 'begin'], ['begun', 'begin'], ['broke', 'break'], ['broken', 'break'], ['sent', 'send'], ['spent', 'spend'],
  ['left', 'leave'], ['held', 'hold'], ['sat', 'sit'], ['hung', 'hang'], ['burnt', 'burn'], ['got', 'get'], ['gotten', 'get'], ['relied', 'rely'], ['came', 'come'], ['became', 'become'],
]);

/**
 * Phrases folded before words are read: multi-word negators, ways to say on/off, ordering and
 * frequency idioms. Each replacement is plain words the rest understands.
 */
export const PHRASES: Array<[RegExp, string]> = [
  // "don't deploy until you migrate" says "migrate before deploying": no negation in the fact.
  [/\b(?:do not|never)\b([^.;:!?]*?)\buntil\b/g, '$1 before'],
  [/\bno longer\b|\bnot any ?more\b/g, 'not'],
  [/\bany ?more\b/g, ''],
  [/\bthere is no need\b|\bno need\b/g, 'not need'],
  [/\b(?:has|have|had|got) to\b/g, 'must'],
  [/\bfrom now on\b|\bgoing forward\b|\bfrom here on\b/g, 'now'],
  // "Since the migration X sit in P": the value since a change, the present one.
  [/\bsince the (?:migration|move|switch|switchover|cutover|change|rewrite|reorg)\b/g, 'now'],
  // "Starting this sprint", "as of next week", "effective today": when a new value holds from.
  [/\b(?:starting|beginning|effective|as of)\s+(?:(?:this|next)\s+[a-z]+|today|tomorrow|now)\b/g, 'now'],
  [/\b(?:from time to time|now and then|every now and then|once in a while|every so often|every few runs|every other run)\b/g, 'sometimes'],
  [/\b(?:prior to|ahead of|in advance of)\b/g, 'before'],
  // "pre-commit checks" are checks before a commit, "post-deploy" after one ("preflight" is a word of its own).
  [/\bpre-(?!flight)(?=[a-z])/g, 'before '],
  [/\bpost-(?=[a-z])/g, 'after '],
  [/\bheads[- ]up\b/g, 'note'],
  // An elliptic condition: "Is Redis up? If not, ..." says "otherwise".
  [/\bif not\b/g, 'otherwise'],
  [/\buntil further notice\b|\bfor the time being\b|\bfor now\b/g, ''],
  [/\bfeel free to\b/g, 'you may'],
  [/\b(?:straight|right) away\b|\bright now\b/g, 'immediately'],
  [/\bat random\b/g, 'randomly'],
  // Phrasal verbs of starting and removing, said as the plain verb.
  [/\b(?:kick|kicks|kicked|kicking|fire|fires|fired|firing|spin|spins|spun|spinning|boot|boots|booted|booting|start|starts|started|starting)\s+(?:off|up)\b/g, 'start'],
  [/\b(?:take|takes|took|taken|taking|rip|rips|ripped|ripping|pull|pulls|pulled|pulling|strip|strips|stripped|stripping)\s+out\b/g, 'removed'],
  [/\b(?:move|moves|moved|moving)\s+(?:off|away from)\b/g, 'stopped using'],
  // "drops X into P": placing, not dropping.
  [/\bdrop(?:s|ped|ping)?\b(?=[^.;:,!?]*\b(?:into|onto)\b)/g, 'put'],
  [/\bend(?:s|ed)? up\b/g, 'go'],
  // "times out" is a failure (and "timeout" the thing, as in "the request timeout").
  [/\btim(?:e|es|ed|ing) out\b/g, 'timeout failing'],
  [/\bthese days\b/g, 'now'],
  // "New location for X: P" (a relational noun of place after "new"): X now in P.
  [/\b(?:the |our |a )?(?:new|current) (?:location|home|place|destination|target|spot) (?:of|for) ([^:.;!?]+):/g, '$1 now in'],
  // "turned on", "is off", "feature: on": a state, not the preposition.
  [/\b(?:turn|turns|turned|turning|switch|switches|switched|switching|toggle|toggled|flip|flipped|flag|flagged|set)\s+on\b/g, 'enabled'],
  [/(?:\b(?:is|are|was|were|be|been|stays|stayed|kept|left|has|have)\s+|:\s*)on\b(?=\s*(?:$|[.,;!?)]|(?:in|for|at|by|everywhere)\b))/g, ' enabled'],
  [/\b(?:turn|turns|turned|turning|switch|switches|switched|switching|toggle|toggled|flip|flipped|flag|flagged|set)\s+off\b/g, 'disabled'],
  [/(?:\b(?:is|are|was|were|be|been|stays|stayed|kept|left|has|have)\s+|:\s*)off\b/g, ' disabled'],
];

/**
 * Words that announce that a fact changed ("now", "moved", "instead"): a new value, not a second
 * fact. Surface forms: the noun "change" announces nothing.
 */
export const CHANGE_MARKERS = new Set(words(`now instead moved switched relocated migrated changed updated retired deprecated`));

/**
 * Words saying a thing is absent or not running ("when Redis is down", "if the key is missing"):
 * after when/if, a failure they lead to says the thing is needed.
 */
export const ABSENCE = new Set(words(`down missing unavailable offline absent unreachable gone`));
/** Subordinators that open a condition. */
export const CONDITIONS = new Set(words(`if when whenever once`));

export interface Lexicon {
  polar: Map<string, [Axis, 1 | -1]>;
  framing: Set<string>;
}

/** The lists keyed by stem (stem is passed in to keep this module free of the rules). */
export function buildLexicon(stem: (word: string) => string): Lexicon {
  const polar = new Map<string, [Axis, 1 | -1]>();
  for (const [axis, sign, list] of POLAR_LISTS) for (const word of words(list)) polar.set(stem(IRREGULAR.get(word) ?? word), [axis, sign]);
  const framing = new Set(FRAMING_LIST.map((word) => stem(IRREGULAR.get(word) ?? word)));
  return { polar, framing };
}
