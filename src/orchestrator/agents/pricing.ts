// Dollars from tokens, where the agent reports no cost (Codex) or has not yet (Claude Code reports
// its cost only at the end of a run; budgets are checked while it runs). Unknown models fail
// closed: they are priced at the table's dearest rate, and the job says so.
import type { ModelPrice } from '../../platform/config.js';
import type { TokenUsage } from './runEvents.js';

export interface PricedUsage {
  costUsd: number;
  /** The price-table entry used, or null when the model was unknown (priced at the dearest entry). */
  priceKey: string | null;
}

/** The entry whose prefix is the longest match of the model's name (dates and [1m]-style suffixes ignored). */
export function priceFor(model: string | null, table: Record<string, ModelPrice>): { key: string | null; price: ModelPrice } {
  const name = (model ?? '').toLowerCase().replace(/\[.*\]$/, '');
  let best: string | null = null;
  for (const prefix of Object.keys(table)) {
    if (name.startsWith(prefix.toLowerCase()) && (best === null || prefix.length > best.length)) best = prefix;
  }
  if (best !== null) return { key: best, price: table[best]! };
  return { key: null, price: dearest(table) };
}

function dearest(table: Record<string, ModelPrice>): ModelPrice {
  const prices = Object.values(table);
  if (prices.length === 0) return { input: 15, output: 75 };
  return prices.reduce((a, b) => (b.input + b.output > a.input + a.output ? b : a));
}

export function priceUsage(usage: TokenUsage, model: string | null, table: Record<string, ModelPrice>): PricedUsage {
  const { key, price } = priceFor(model, table);
  const cacheRead = price.cache_read ?? price.input * 0.1;
  const cacheWrite = price.cache_write ?? price.input * 1.25;
  const costUsd =
    (usage.input_tokens * price.input + usage.output_tokens * price.output + usage.cache_read_input_tokens * cacheRead + usage.cache_creation_input_tokens * cacheWrite) / 1e6;
  return { costUsd, priceKey: key };
}
