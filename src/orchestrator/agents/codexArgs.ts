// The argv (after the `codex` binary) of a non-interactive Codex run in a worktree: `exec --json`,
// approvals off, sandboxed to the worktree; or `exec resume <session>` continuing a session.
// Checked against Codex CLI 0.171: `exec resume` has no --sandbox flag (the config key does it), and
// there is no --full-auto any more; stdin must be closed (/dev/null) or Codex waits to read it.

export const CODEX_SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const;
export type CodexSandboxMode = (typeof CODEX_SANDBOX_MODES)[number];

export interface CodexArgsOptions {
  model?: string;
  /** Codex's sandbox mode; default `workspace-write` (the worktree is the agent's sandbox). */
  sandbox?: string;
  prompt: string;
  /** Continue this Codex session (its thread id, the run's `session` event) instead of starting one. */
  resumeSessionId?: string;
  /** More `-c key=value` overrides (TOML values), e.g. a model provider. */
  config?: string[];
}

export function codexArgs(options: CodexArgsOptions): string[] {
  const sandbox = options.sandbox ?? 'workspace-write';
  if (!(CODEX_SANDBOX_MODES as readonly string[]).includes(sandbox)) {
    throw new Error(`unknown Codex sandbox mode "${sandbox}" (one of ${CODEX_SANDBOX_MODES.join(', ')})`);
  }
  const resume = options.resumeSessionId;
  if (resume !== undefined && !/^\w[\w.:-]*$/.test(resume)) throw new Error(`not a Codex session id: ${JSON.stringify(resume)}`);
  // approval_policy "never": a command needing approval is refused (and said so), never waited on.
  const args = resume === undefined ? ['exec', '--json', '--sandbox', sandbox] : ['exec', 'resume', '--json', '-c', `sandbox_mode="${sandbox}"`];
  args.push('-c', 'approval_policy="never"');
  if (options.model) args.push('--model', options.model);
  for (const override of options.config ?? []) args.push('-c', override);
  // After '--', a prompt (or id) starting with '-' is never an option.
  args.push('--');
  if (resume !== undefined) args.push(resume);
  args.push(options.prompt);
  return args;
}
