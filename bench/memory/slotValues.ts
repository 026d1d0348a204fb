// Shorthands every split's lists are written with: a slot value, with other grammatical forms some
// phrasings need (`{task:ger}`), and a list of plain values.
import type { SlotValue } from './facts.js';

export const v = (text: string, forms?: Record<string, string>): SlotValue => (forms ? { text, forms } : { text });
export const values = (...texts: string[]): SlotValue[] => texts.map((text) => v(text));
