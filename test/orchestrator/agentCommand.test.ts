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

  it('runs Codex in exec mode with JSON events, sandboxed to the worktree, approvals off, the prompt after --', () => {
    const inv = agentInvocation({ type: 'codex', model: 'gpt-5-codex' }, task, config);
    expect(inv).toEqual({
      file: 'codex',
      args: ['exec', '--json', '--sandbox', 'workspace-write', '-c', 'approval_policy="never"', '--model', 'gpt-5-codex', '--', task.prompt],
      env: {},
    });
    expect(agentInvocation({ type: 'codex', sandbox: 'read-only' }, task, config).args).toContain('read-only');
  });

  it('resumes a Codex session with exec resume, the session id and prompt after --', () => {
    const inv = agentInvocation({ type: 'codex' }, { ...task, resumeSessionId: 'thread-1' }, config);
    expect(inv.args.slice(0, 3)).toEqual(['exec', 'resume', '--json']);
    expect(inv.args.slice(-3)).toEqual(['--', 'thread-1', task.prompt]);
  });

  it('lets Claude Code edit and run commands by default: acceptEdits and the default tools, both overridable', () => {
    const defaults = agentInvocation({ type: 'claude-code' }, task, config).args;
    expect(defaults[defaults.indexOf('--permission-mode') + 1]).toBe('acceptEdits');
    const tools = defaults[defaults.indexOf('--allowedTools') + 1]!.split(',');
    expect(tools).toEqual(expect.arrayContaining(['Bash', 'Edit', 'Write', 'Read']));
    // Configuration and the job override them.
    const configured = loadConfig({ AUTOBUILD_HOME: '/tmp/x', AUTOBUILD_CLAUDE_PERMISSION_MODE: 'plan', AUTOBUILD_CLAUDE_ALLOWED_TOOLS: 'Read, Grep' }).agents;
    const args = agentInvocation({ type: 'claude-code' }, task, configured).args;
    expect(args[args.indexOf('--permission-mode') + 1]).toBe('plan');
    expect(args[args.indexOf('--allowedTools') + 1]).toBe('Read,Grep');
    const job = agentInvocation({ type: 'claude-code', permission_mode: 'default', allowed_tools: ['Read'] }, task, config).args;
    expect(job[job.indexOf('--permission-mode') + 1]).toBe('default');
    expect(job[job.indexOf('--allowedTools') + 1]).toBe('Read');
    // No tools at all when configured empty.
    expect(agentInvocation({ type: 'claude-code' }, task, loadConfig({ AUTOBUILD_HOME: '/tmp/x', AUTOBUILD_CLAUDE_ALLOWED_TOOLS: '' }).agents).args).not.toContain('--allowedTools');
  });

  it('resumes a Claude Code session with --resume, the prompt still after --', () => {
    const args = agentInvocation({ type: 'claude-code' }, { ...task, resumeSessionId: 'abc-123' }, config).args;
    expect(args[args.indexOf('--resume') + 1]).toBe('abc-123');
    expect(args.slice(-2)).toEqual(['--', task.prompt]);
  });
});
