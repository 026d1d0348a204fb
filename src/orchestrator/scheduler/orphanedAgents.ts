// Whether a pid still belongs to a job's agent that outlived its orchestrator. Checked through the
// process's environment (AUTOBUILD_JOB_ID), so a recycled pid is never killed by mistake.
import { readFile } from 'node:fs/promises';

export async function isOrphanedAgent(pid: number, jobId: string): Promise<boolean> {
  try {
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1');
    return environ.split('\0').includes(`AUTOBUILD_JOB_ID=${jobId}`);
  } catch {
    return false;
  }
}
