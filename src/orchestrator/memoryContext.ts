// The memory service's context for a job: what the agent finds in AUTOBUILD_CONTEXT_FILE. Asked
// over HTTP through the typed client; a project the service has not indexed, or a service that
// does not answer in time, gives an empty context — the job runs all the same.
import { ApiError, MemoryClient } from '../clients/memory.js';

export interface ContextSource {
  memoryServiceUrl: string | undefined;
  apiToken: string | undefined;
  maxTokens?: number;
  timeoutMs?: number;
}

export type JobContextProvider = (job: { project_id: string; title: string; prompt: string }) => Promise<string>;

export function memoryContextProvider(source: ContextSource): JobContextProvider {
  if (!source.memoryServiceUrl) return async () => '';
  const client = new MemoryClient({ baseUrl: source.memoryServiceUrl, token: source.apiToken, timeoutMs: source.timeoutMs ?? 15_000 });
  return async (job) => {
    try {
      const task = job.prompt.startsWith(job.title) ? job.prompt : `${job.title}\n\n${job.prompt}`;
      const answer = await client.context({ project_id: job.project_id, task_description: task, max_tokens: source.maxTokens ?? 2000 });
      return answer.context;
    } catch (error) {
      // Not indexed: nothing to say. Anything else is reported by the caller and the job goes on.
      if (error instanceof ApiError && error.status === 404) return '';
      throw error;
    }
  };
}
