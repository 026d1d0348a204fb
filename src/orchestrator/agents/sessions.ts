// Whether an agent's earlier session can be resumed here: its transcript must exist where the
// agent will look for it. Claude Code keeps one per working directory under
// $CLAUDE_CONFIG_DIR (default ~/.claude)/projects/<cwd with every other character as '-'>/<id>.jsonl;
// Codex keeps rollouts under $CODEX_HOME (default ~/.codex)/sessions/YYYY/MM/DD/rollout-…-<id>.jsonl.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { AgentSpec } from '../jobs/job.js';

export function claudeTranscriptPath(env: NodeJS.ProcessEnv, cwd: string, sessionId: string): string | null {
  const configDir = env.CLAUDE_CONFIG_DIR || (env.HOME ? path.join(env.HOME, '.claude') : null);
  if (!configDir) return null;
  return path.join(configDir, 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'), `${sessionId}.jsonl`);
}

function findFile(dir: string, suffix: string, depth: number): string | null {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith(suffix)) return path.join(dir, entry.name);
  }
  if (depth === 0) return null;
  // Newest dates first: sessions are filed by day.
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => b.name.localeCompare(a.name))) {
    const found = findFile(path.join(dir, entry.name), suffix, depth - 1);
    if (found) return found;
  }
  return null;
}

/** Where Codex keeps its configuration and sessions: $CODEX_HOME, else ~/.codex. */
export function codexHome(env: NodeJS.ProcessEnv): string | null {
  return env.CODEX_HOME || (env.HOME ? path.join(env.HOME, '.codex') : null);
}

export function codexRolloutPath(env: NodeJS.ProcessEnv, sessionId: string): string | null {
  const home = codexHome(env);
  if (!home || !/^[\w.:-]+$/.test(sessionId)) return null;
  return findFile(path.join(home, 'sessions'), `${sessionId}.jsonl`, 3);
}

/** The session to resume, if the agent can resume it here (its transcript exists). */
export function resumableSession(agent: AgentSpec, env: NodeJS.ProcessEnv, cwd: string, sessionId: string | null): string | null {
  if (!sessionId) return null;
  if (agent.type === 'claude-code') {
    const file = claudeTranscriptPath(env, cwd, sessionId);
    return file && existsSync(file) ? sessionId : null;
  }
  if (agent.type === 'codex') return codexRolloutPath(env, sessionId) ? sessionId : null;
  return null;
}
