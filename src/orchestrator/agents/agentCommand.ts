// Turns a job's agent spec into the argv and environment of the process to run: the `command`
// agent as given, Claude Code in print mode with stream-json output, Codex in exec mode.
// Always an argv array: no shell ever sees the prompt.
import type { Config } from '../../platform/config.js';
import type { AgentSpec } from '../jobs/job.js';

export interface AgentInvocation {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export interface AgentTask {
  prompt: string;
  /** Markdown context from the memory service (may be empty). */
  context: string;
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
      if (model) args.push('--model', model);
      if (maxTurns !== undefined) args.push('--max-turns', String(maxTurns));
      if (agent.allowed_tools?.length) args.push('--allowedTools', agent.allowed_tools.join(','));
      if (permissionMode) args.push('--permission-mode', permissionMode);
      if (task.context.trim()) args.push('--append-system-prompt', `Context from the project's memory:\n\n${task.context}`);
      args.push('--', task.prompt);
      return { file: config.claudeCommand, args, env: {} };
    }
    case 'codex': {
      const args = ['exec'];
      const model = agent.model ?? config.codexModel;
      const sandbox = agent.sandbox ?? config.codexSandbox;
      if (model) args.push('--model', model);
      if (sandbox) args.push('--sandbox', sandbox);
      const prompt = task.context.trim() ? `${task.prompt}\n\n## Context from the project's memory\n\n${task.context}` : task.prompt;
      args.push('--', prompt);
      return { file: config.codexCommand, args, env: {} };
    }
  }
}
