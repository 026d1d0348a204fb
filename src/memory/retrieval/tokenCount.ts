// Owns counting tokens the way models do: cl100k_base through js-tiktoken, with the ranks bundled
// in the package (offline), loaded once on first use.
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';

let encoder: Tiktoken | undefined;

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  encoder ??= new Tiktoken(cl100kBase);
  return encoder.encode(text).length;
}
