// Keeps the tail of an agent's output and finds its own summary there: Claude Code's stream-json
// ends with {"type":"result","result":"..."}; Codex and commands may print a last JSON line the same way.

const TAIL_BYTES = 256 * 1024;

export class OutputTail {
  private text = '';

  push(chunk: Buffer | string): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.text.length > TAIL_BYTES * 2) this.text = this.text.slice(-TAIL_BYTES);
  }

  /** The agent's final summary, if its output carries one. */
  summary(): string | null {
    const lines = this.text.trimEnd().split('\n');
    for (let i = lines.length - 1; i >= 0 && i >= lines.length - 50; i--) {
      const line = lines[i]!.trim();
      if (!line.startsWith('{')) continue;
      try {
        const event = JSON.parse(line) as { type?: unknown; result?: unknown };
        // Without NUL or an unpaired surrogate (the cut can split an emoji's pair): the summary is
        // stored in jsonb, which refuses both (and the job's outcome would not be recorded).
        const result = typeof event.result === 'string' ? event.result.replaceAll('\u0000', '').trim() : '';
        if (event.type === 'result' && result) return result.slice(0, 20_000).replace(/\p{Cs}/gu, '\uFFFD');
      } catch {
        // not JSON
      }
    }
    return null;
  }
}
