// Turns a job's agent spec into the argv and environment of the process to run, and the parser of
// its output: the `command` agent as given; Claude Code in print mode with stream-json output,
// allowed to edit and run commands in its worktree (acceptEdits and a list of allowed tools: print
// mode cannot ask, and bypassPermissions is refused to root); Codex in `exec --json`, sandboxed to
// the worktree with approvals off. Always an argv array: no shell ever sees the prompt.
import type { Config } from '../../platform/config.js';
import type { AgentSpec } from '../jobs/job.js';
import { claudeCodeStreamParser } from './claudeCodeStream.js';
import { codexArgs } from './codexArgs.js';
import { codexStreamParser } from './codexStream.js';
import { commandStreamParser } from './commandStream.js';
import type { AgentStreamParser, TokenUsage } from './runEvents.js';

export interface AgentInvocation {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export interface AgentTask {
  prompt: string;
  /** Markdown context from the memory service (may be empty). */
  context: string;
  /** Continue this session of the agent (its transcript checked to exist) instead of starting one. */
  resumeSessionId?: string;
}

export function agentInvocation(agent: AgentSpec, task: AgentTask, config: Config['agents']): AgentInvocation {
  switch (agent.type) {
    case 'command': {
      const [file, ...args] = agent.command;
      if (!file) throw new Error('the command agent needs at least one argv element');
      return { file, args, env: { ...agent.env } };
    }
    case 'claude-code': {
      // The prompt goes last, after '--', so that a prompt starting with '-' is never an option.
      const args = ['-p', '--output-format', 'stream-json', '--verbose'];
      const model = agent.model ?? config.claudeModel;
      const maxTurns = agent.max_turns ?? config.claudeMaxTurns;
      const permissionMode = agent.permission_mode ?? config.claudePermissionMode;
      const tools = agent.allowed_tools ?? config.claudeAllowedTools;
      if (task.resumeSessionId) args.push('--resume', task.resumeSessionId);
      if (model) args.push('--model', model);
      if (maxTurns !== undefined) args.push('--max-turns', String(maxTurns));
      if (tools.length > 0) args.push('--allowedTools', tools.join(','));
      if (permissionMode) args.push('--permission-mode', permissionMode);
      if (task.context.trim()) args.push('--append-system-prompt', `Context from the project's memory:\n\n${task.context}`);
      args.push('--', task.prompt);
      return { file: config.claudeCommand, args, env: {} };
    }
    case 'codex': {
      const prompt = task.context.trim() && !task.resumeSessionId ? `${task.prompt}\n\n## Context from the project's memory\n\n${task.context}` : task.prompt;
      const args = codexArgs({ model: agent.model ?? config.codexModel, sandbox: agent.sandbox ?? config.codexSandbox, prompt, resumeSessionId: task.resumeSessionId });
      return { file: config.codexCommand, args, env: {} };
    }
  }
}

export interface ParserOptions {
  /** The worktree: paths under it are shown relative to it. */
  cwd: string;
  /** A resumed Codex session's earlier total (Codex reports the thread's total, not the run's). */
  priorUsage?: TokenUsage | null;
}

export function agentStreamParser(agent: AgentSpec, options: ParserOptions): AgentStreamParser {
  switch (agent.type) {
    case 'command':
      return commandStreamParser();
    case 'claude-code':
      return claudeCodeStreamParser({ cwd: options.cwd });
    case 'codex':
      return codexStreamParser({ cwd: options.cwd, priorUsage: options.priorUsage ?? null });
  }
}
