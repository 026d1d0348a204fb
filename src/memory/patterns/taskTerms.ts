// Owns the words of a task that patterns relate to files: lower-cased, camelCase and snake_case
// split, plurals folded (invoices → invoice), stop words, generic task verbs ("fix", "add") and
// path noise ("src", "tsx") dropped, in order of first appearance, at most MAX_TASK_TERMS. The same
// function reads the tasks patterns learn from and the task a context is built for, so they meet.

export const MAX_TASK_TERMS = 10;

const STOP_WORDS = new Set(
  (
    // English glue
    'the and for with that this these those from into onto over under about after before when then than there here ' +
    'are was were been being has have had does did doing will would should could must may might shall can cannot ' +
    'not but nor yet also just only very too more most less least some any all each every both either neither ' +
    'its our your their they them what which who whom whose where why how out off via per upon within without ' +
    'again once still even such same other another own one two three new old now please sure like want need needs ' +
    // generic task verbs and nouns: every kind of task has them
    'add adds added adding fix fixes fixed fixing make makes making made update updates updated updating change changes changed ' +
    'implement implements implemented implementing create creates created creating remove removes removed removing ' +
    'use uses used using support supports improve improves refactor ensure ensures allow allows handle handles ' +
    'work works working get gets set sets let lets put way thing things issue issues task tasks job jobs bug bugs ' +
    'file files code line lines instead rather able null true false undefined ' +
    // path and language noise
    'src lib dist tsx jsx json yaml yml html css txt mjs cjs'
  ).split(' '),
);

/** invoices → invoice, queries → query, classes → class, status stays. */
export function foldPlural(word: string): string {
  if (word.length <= 3) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(ss|sh|ch|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

export function taskTerms(text: string, max = MAX_TASK_TERMS): string[] {
  const words = text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .match(/[a-z][a-z0-9]*/g) ?? [];
  const terms: string[] = [];
  for (const word of words) {
    if (word.length < 3 || STOP_WORDS.has(word)) continue;
    const term = foldPlural(word);
    if (STOP_WORDS.has(term) || terms.includes(term)) continue;
    terms.push(term);
    if (terms.length >= max) break;
  }
  return terms;
}
