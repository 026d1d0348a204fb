// Job logs on disk: the events file's seq numbers stay unique and in order across writers of one job.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { JobLogs } from '../../src/orchestrator/logs/jobLogs.js';
import { tempDir } from '../support/repo.js';

const dir = tempDir('autobuild-joblogs-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('job logs', () => {
  it('numbers events once across writers, even when a writer is closed twice', async () => {
    const logs = new JobLogs(dir);
    const first = logs.open('job-1');
    const second = logs.open('job-1');
    first.note('one');
    await first.close();
    await first.close();
    // A third writer opened while the second is still open shares its numbering.
    const third = logs.open('job-1');
    second.note('two');
    third.note('three');
    await second.close();
    await third.close();
    const page = await logs.readEvents('job-1', { afterSeq: 0, limit: 10 });
    expect(page.events.map((event) => [event.seq, (event as { text?: string }).text])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect((await logs.readFrom('job-1', 0)).toString('utf8')).toMatch(/one[\s\S]*two[\s\S]*three/);
  });

  it('keeps the lines of two writers writing at once in seq order, so a reader paging by seq misses none', async () => {
    const logs = new JobLogs(dir);
    // As a recovery's note and the next attempt's lines: two writers of one job at the same time.
    const a = logs.open('job-2');
    const b = logs.open('job-2');
    for (let i = 0; i < 300; i++) {
      a.note(`a${i}`);
      b.note(`b${i}`);
    }
    await Promise.all([a.close(), b.close()]);
    const lines = readFileSync(logs.eventsPathOf('job-2'), 'utf8').trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    // The readable log in the same order.
    const text = (await logs.readFrom('job-2', 0)).toString('utf8').trim().split('\n').map((line) => line.replace(/^.*\] /, ''));
    expect(text).toEqual(Array.from({ length: 300 }, (_, i) => [`a${i}`, `b${i}`]).flat());
    // Paged five at a time from where the last page ended, every event comes back once.
    const seen: number[] = [];
    let page = { events: [] as Array<{ seq: number }>, offset: 0 };
    do {
      page = await logs.readEvents('job-2', { afterSeq: seen.at(-1) ?? 0, limit: 5, offset: page.offset });
      seen.push(...page.events.map((event) => event.seq));
    } while (page.events.length > 0);
    expect(seen).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
  });
});
