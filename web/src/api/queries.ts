// Server state shared by several screens (TanStack Query keys and fetchers in one place).
import { useQuery } from '@tanstack/react-query';
import { backoff, getJson } from './client';
import type { Job, JobPage, QueueSnapshot } from './types';

/** The newest jobs (the board, the notifier and the thread all read this one query). */
export function useRecentJobs() {
  return useQuery({
    queryKey: ['jobs', 'recent'],
    queryFn: ({ signal }) => getJson<JobPage>('orchestrator', '/api/v1/jobs', { query: { limit: 300 }, signal }),
    refetchInterval: backoff(2000),
    refetchIntervalInBackground: true,
  });
}

export function useQueue() {
  return useQuery({
    queryKey: ['queue'],
    queryFn: ({ signal }) => getJson<QueueSnapshot>('orchestrator', '/api/v1/queue', { signal }),
    refetchInterval: backoff(2000),
  });
}

export function useJob(id: string | undefined, live: boolean) {
  return useQuery({
    queryKey: ['job', id],
    queryFn: ({ signal }) => getJson<Job>('orchestrator', `/api/v1/jobs/${id}`, { signal }),
    enabled: Boolean(id),
    refetchInterval: live ? backoff(1500) : false,
  });
}

/**
 * The orchestrator routes this deployment serves (its OpenAPI document's paths), so the page asks
 * only for what exists (an older orchestrator has no /events or /diff) instead of collecting 404s.
 */
export function useOrchestratorRoutes() {
  return useQuery({
    queryKey: ['openapi', 'orchestrator'],
    queryFn: async ({ signal }) => new Set(Object.keys((await getJson<{ paths?: Record<string, unknown> }>('orchestrator', '/openapi.json', { signal })).paths ?? {})),
    staleTime: 5 * 60_000,
  });
}

const MINE = 'autobuild.myJobs';

/** Jobs submitted from this browser: the ones whose end is announced. */
export const myJobs = {
  ids(): Set<string> {
    try {
      return new Set(JSON.parse(localStorage.getItem(MINE) ?? '[]') as string[]);
    } catch {
      return new Set();
    }
  },
  add(id: string): void {
    const ids = [...myJobs.ids(), id].slice(-200);
    localStorage.setItem(MINE, JSON.stringify(ids));
  },
};
