// How each agent type becomes an argv (never a shell string): options from the job, then config.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { agentInvocation } from '../../src/orchestrator/agents/agentCommand.js';

const config = loadConfig({ AUTOBUILD_HOME: '/tmp/x', AUTOBUILD_CLAUDE_MODEL: 'claude-default', AUTOBUILD_CLAUDE_COMMAND: '/opt/claude' }).agents;
const task = { prompt: 'fix the bug; rm -rf / $(whoami)', context: '' };

describe('agent invocations', () => {
  it('runs a command agent exactly as given', () => {
    expect(agentInvocation({ type: 'command', command: ['node', 'agent.js', '--x'], env: { A: '1' } }, task, config)).toEqual({
      file: 'node',
      args: ['agent.js', '--x'],
      env: { A: '1' },
    });
  });

  it('runs Claude Code in print mode with stream-json, the prompt as one argv element', () => {
    const inv = agentInvocation({ type: 'claude-code', max_turns: 5, allowed_tools: ['Read', 'Edit'], permission_mode: 'acceptEdits' }, task, config);
    expect(inv.file).toBe('/opt/claude');
    expect(inv.args).toEqual([
      '-p', '--output-format', 'stream-json', '--verbose',
      '--model', 'claude-default', '--max-turns', '5', '--allowedTools', 'Read,Edit', '--permission-mode', 'acceptEdits',
      '--', task.prompt,
    ]);
  });

  it("hands Claude Code the memory context as an appended system prompt, and the job's model wins", () => {
    const inv = agentInvocation({ type: 'claude-code', model: 'claude-job' }, { prompt: 'p', context: '## auth.ts\nlogin()' }, config);
    expect(inv.args).toContain('claude-job');
    expect(inv.args).not.toContain('claude-default');
    expect(inv.args[inv.args.indexOf('--append-system-prompt') + 1]).toContain('login()');
  });

  it('runs Codex in exec mode with the prompt after --', () => {
    const inv = agentInvocation({ type: 'codex', model: 'gpt-5-codex', sandbox: 'workspace-write' }, task, config);
    expect(inv).toEqual({ file: 'codex', args: ['exec', '--model', 'gpt-5-codex', '--sandbox', 'workspace-write', '--', task.prompt], env: {} });
  });
});
