// Reading a benchmark's jobs back over the orchestrator's HTTP API: every job of a project (all
// pages), and waiting until the queue has drained.
import { api } from './harness.js';

export interface JobView {
  id: string;
  status: string;
  branch: string;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export async function listJobs(url: string, projectId: string): Promise<JobView[]> {
  const jobs: JobView[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `project_id=${projectId}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await api<{ jobs: JobView[]; next_cursor: string | null }>(url, 'GET', `/api/v1/jobs?${query}`);
    if (page.status !== 200) throw new Error(`listing jobs answered ${page.status}: ${JSON.stringify(page.body)}`);
    jobs.push(...page.body.jobs);
    cursor = page.body.next_cursor;
  } while (cursor);
  return jobs;
}

/** Poll the queue (every pollMs) until nothing is queued or active; fails after timeoutMs. */
export async function waitUntilDrained(url: string, timeoutMs: number, pollMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queue = await api<{ running: number; queued: number }>(url, 'GET', '/api/v1/queue');
    if (queue.status !== 200) throw new Error(`the queue endpoint answered ${queue.status}`);
    if (queue.body.queued === 0 && queue.body.running === 0) return;
    if (Date.now() > deadline) throw new Error(`jobs still queued (${queue.body.queued}) or running (${queue.body.running}) after ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
