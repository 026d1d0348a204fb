// Job logs on disk: the events file's seq numbers stay unique and in order across writers of one job.
import { rmSync } from 'node:fs';
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
});
