// The services' own log: JSON lines for machines (piped, or asked), text for a person (a terminal, or
// asked), the secrets masked either way.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { usesText } from '../../src/platform/logger.js';
import { tempDir } from '../support/repo.js';

const CLI = path.resolve('bin/autobuild.js');

/** Start `autobuild orchestrator`, wait until it listens, stop it; its stderr. */
function orchestratorLog(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'orchestrator'], {
      env: { PATH: process.env.PATH, AUTOBUILD_HOME: tempDir('log-format-'), ORCHESTRATOR_PORT: '0', MEMORY_SERVICE_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`no start: ${stderr}`))), 60_000);
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      if (/orchestrator listening/.test(stderr)) child.kill('SIGTERM');
    });
    child.on('close', () => (clearTimeout(timer), resolve(stderr)));
  });
}

describe('the services log', () => {
  it('as JSON lines when piped, and as text when asked, masking secrets in both', async () => {
    const token = 'tok-abcdefghijklmnop';
    const json = await orchestratorLog({ AUTOBUILD_API_TOKEN: token });
    const lines = json.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.some((line) => JSON.parse(line).msg === 'orchestrator listening')).toBe(true);

    const text = await orchestratorLog({ AUTOBUILD_API_TOKEN: token, AUTOBUILD_LOG_FORMAT: 'text' });
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: orchestrator listening/m);
    expect(text.split('\n').some((line) => line.startsWith('{'))).toBe(false);
    expect(`${json}${text}`).not.toContain(token);
  });

  it('chooses text on a terminal by default', () => {
    expect(usesText('auto', { isTTY: true })).toBe(true);
    expect(usesText('auto', { isTTY: false })).toBe(false);
    expect(usesText('json', { isTTY: true })).toBe(false);
    expect(usesText('text', {})).toBe(true);
  });
});
