// The environment an agent process gets (the contract's variables), the same wherever it runs:
// the parent's environment minus AutoBuild's own secrets, the agent's env, then the job's values.

/** Variables the orchestrator or runner holds that an agent must never inherit. */
export const WITHHELD_ENV = ['AUTOBUILD_API_TOKEN', 'AUTOBUILD_CALLBACK_SECRET', 'DATABASE_URL', 'GITHUB_TOKEN'];

export interface AgentJobFacts {
  id: string;
  prompt: string;
  branch: string;
  project_id: string;
  attempt: number;
}

export function agentEnvironment(base: NodeJS.ProcessEnv, agentEnv: Record<string, string>, job: AgentJobFacts, contextFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of WITHHELD_ENV) delete env[name];
  return Object.assign(env, agentEnv, {
    AUTOBUILD_JOB_ID: job.id,
    AUTOBUILD_PROMPT: job.prompt,
    AUTOBUILD_BRANCH: job.branch,
    AUTOBUILD_CONTEXT_FILE: contextFile,
    AUTOBUILD_PROJECT_ID: job.project_id,
    AUTOBUILD_ATTEMPT: String(job.attempt),
  });
}
