// The wire types the dashboard uses: generated from the services' OpenAPI documents
// (src/clients/generated, `npm run gen:types`), never copied by hand.
import type { components as Orchestrator, paths as OrchestratorPaths } from '../../../src/clients/generated/orchestrator';
import type { components as Memory } from '../../../src/clients/generated/memory';

type O = Orchestrator['schemas'];
type M = Memory['schemas'];

export type Job = O['Job'];
export type JobResult = O['JobResult'];
export type JobPage = O['JobPage'];
export type JobStatus = O['JobStatus'];
export type Priority = O['Priority'];
export type AgentSpec = O['Agent'];
export type QueueSnapshot = O['QueueSnapshot'];
export type JobEvent = O['JobEvent'];
export type JobEventPage = O['JobEventPage'];
export type DiffFile = O['DiffFile'];
export type JobDiff = O['JobDiff'];
export type PullRequest = O['PullRequest'];
export type Project = O['Project'];
export type ProjectPage = O['ProjectPage'];
export type Worktree = O['Worktree'];
export type WorktreePage = O['WorktreePage'];
export type Health = O['Health'];
export type FieldProblem = NonNullable<O['ErrorBody']['error']['details']>[number];
export type SubmitJobRequest = NonNullable<OrchestratorPaths['/api/v1/jobs']['post']['requestBody']>['content']['application/json'] & {
  max_cost_usd?: number;
};
export type RegisterProjectRequest = NonNullable<OrchestratorPaths['/api/v1/projects']['post']['requestBody']>['content']['application/json'];

export type SearchResult = M['SearchResult'];
export type SearchResponse = M['SearchResponse'];
export type StoredMemory = M['Memory'];
export type MemoryPage = M['MemoryPage'];
export type Pattern = M['Pattern'];
export type PatternPage = M['PatternPage'];
export type ChatMessage = M['ChatMessage'];
export type ChatAnswer = M['ChatAnswer'];
export type SourceRange = M['SourceRange'];
export type Changelog = M['Changelog'];
export type MemoryHealth = M['Health'];

export const PRIORITIES: readonly Priority[] = ['critical', 'high', 'normal', 'low'];
export const TERMINAL: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);
