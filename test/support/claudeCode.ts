// The real Claude Code CLI in tests: where its binary is, the environment that points it at a local
// Messages API fake (and keeps the machine's own Claude setup out), and readers of the requests it
// sends (what the user typed, where the scripted task stands, its working directory).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MessagesRequest } from '../fakes/anthropicServer.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The CLI's launcher (the native binary once its postinstall ran), else the platform package's binary. */
export function findClaude(): { path?: string; reason?: string } {
  const libc = process.platform === 'linux' && !(process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ? '-musl' : '';
  const candidates = [path.join(ROOT, 'node_modules/.bin/claude'), path.join(ROOT, `node_modules/@anthropic-ai/claude-code-${process.platform}-${process.arch}${libc}/claude`)];
  for (const file of candidates) {
    try {
      if (existsSync(file) && /Claude Code/.test(execFileSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 }))) return { path: file };
    } catch {
      // a placeholder or a binary for another platform: try the next
    }
  }
  return { reason: `no runnable Claude Code CLI in node_modules (tried ${candidates.join(', ')}); run npm install` };
}

export function claudeBinary(): string {
  const found = findClaude();
  if (!found.path) throw new Error(found.reason);
  return found.path;
}

/** Variables of the machine's own Claude setup; and IS_SANDBOX, which makes the CLI retry a 529 for minutes. */
export const CLAUDE_SETUP_VARS = /^(ANTHROPIC_|CLAUDE|IS_SANDBOX$)/;

/** What an agent's environment adds to point Claude Code at the fake, with its own HOME (transcripts). */
export function claudeFakeEnv(fakeUrl: string, home: string): Record<string, string> {
  return {
    HOME: home,
    ANTHROPIC_BASE_URL: fakeUrl,
    ANTHROPIC_API_KEY: 'sk-ant-test-dummy',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
  };
}

/** This process's environment without the machine's Claude setup, plus the fake's. */
export function claudeAgentEnv(fakeUrl: string, home: string, extra: Record<string, string> = {}): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !CLAUDE_SETUP_VARS.test(entry[0])));
  return { ...inherited, ...claudeFakeEnv(fakeUrl, home), ...extra };
}

export const systemText = (body: MessagesRequest) => (typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text).join('\n'));
/** A turn of the agent's own conversation (Claude Code's side requests, e.g. a title, carry no tools). */
export const hasWrite = (body: MessagesRequest) => (body.tools ?? []).some((tool) => tool.name === 'Write');
/** The text the user typed in the conversation (tool results and reminders aside). */
export const userTexts = (body: MessagesRequest) =>
  body.messages
    .filter((m) => m.role === 'user')
    .map((m) => (typeof m.content === 'string' ? m.content : m.content.filter((b) => b.type === 'text').map((b) => String(b.text)).join('\n')))
    .filter((t) => t.trim());
/** Assistant turns since the user's last typed message: where the scripted task stands. */
export function stepOf(body: MessagesRequest): number {
  let lastUser = -1;
  body.messages.forEach((m, i) => {
    if (m.role === 'user' && (typeof m.content === 'string' || m.content.some((b) => b.type === 'text' && !String(b.text).startsWith('<system-reminder>')))) lastUser = i;
  });
  return body.messages.slice(lastUser + 1).filter((m) => m.role === 'assistant').length;
}
/** Claude Code's working directory, from its system prompt. */
export const cwdOf = (body: MessagesRequest) => /Primary working directory: (\S+)/.exec(systemText(body))?.[1] ?? '.';
