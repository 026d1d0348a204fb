// The one typed configuration object, read once at start from the environment and an optional
// JSON config file whose keys are the same variable names. The environment wins. Nothing else
// in the code base reads process.env.
import { existsSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import path from 'node:path';

export type AgentType = 'claude-code' | 'codex' | 'command';

/** Dollars per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  cache_read?: number;
  cache_write?: number;
}

export interface Config {
  home: string;
  host: string;
  orchestratorPort: number;
  memoryPort: number;
  webPort: number;
  databaseUrl: string | undefined;
  /**
   * The embedded database's buffer cache (PostgreSQL's shared_buffers), in MB. Searches of a large
   * index read its HNSW graph and full-text vectors page by page: past PGlite's default 128 MB every
   * miss is a read through the WASM file system (100k chunks: 640 MB of tables and indexes, HNSW
   * statement 11.5 ms at 128 MB, 7.7 ms at 512 MB). The memory is taken when the database opens.
   */
  pgliteSharedBuffersMb: number;
  apiToken: string | undefined;
  logLevel: string;
  /** auto: text on a terminal, JSON lines otherwise; text; json. */
  logFormat: 'auto' | 'text' | 'json';
  maxParallel: number;
  memoryServiceUrl: string | undefined;
  publicUrl: string | undefined;
  callbackSecret: string | undefined;
  github: {
    token: string | undefined;
    apiUrl: string;
    /** How often running GitHub Actions jobs are reconciled with their runs. */
    pollS: number;
    /** A dispatched run that has not started after this is given up (timed_out). */
    startTimeoutS: number;
    /** A run that completed without calling back is failed after this grace. */
    callbackGraceS: number;
    /** Between mutating GitHub requests (GitHub asks for about one second). */
    writeIntervalMs: number;
    /**
     * Callbacks authenticated by the run's GitHub Actions OIDC token instead of (or besides) the
     * shared secret: the token's issuer, audience and repository are checked, so no secret is shared.
     */
    oidc: {
      enabled: boolean;
      /** GitHub's token issuer; GitHub Enterprise Server: https://HOST/_services/token. */
      issuer: string;
      /** The audience the runner asks for and the orchestrator requires (default: publicUrl). */
      audience: string | undefined;
    };
  };
  anthropic: { apiKey: string | undefined; baseUrl: string | undefined; model: string };
  embedding: {
    provider: 'auto' | 'minilm' | 'openai' | 'hash';
    model: string | undefined;
    /** Root of local transformers.js models (`<modelDir>/<model>/config.json`, ...). */
    modelDir: string;
    /** Whether MiniLM may be downloaded from the Hugging Face Hub when it is not found locally. */
    allowDownload: boolean;
    /** The openai provider: an OpenAI-compatible API root, its key, and a vector size to ask for. */
    openaiBaseUrl: string | undefined;
    openaiApiKey: string | undefined;
    dimensions: number | undefined;
  };
  memory: {
    /** Largest body of POST /api/v1/index/files (inline files); other routes keep bodyLimitBytes. */
    indexBodyLimitBytes: number;
    /** Most inline files in one index request. */
    maxInlineFiles: number;
  };
  jobs: {
    defaultAgent: AgentType;
    defaultTimeoutS: number;
    /** How long a claimed job's lease lasts without renewal before another replica may recover it. */
    leaseS: number;
    /** First retry delay; doubles each attempt up to retryBackoffMaxS. */
    retryBackoffS: number;
    retryBackoffMaxS: number;
    /** Between SIGTERM and SIGKILL of an agent's process group. */
    killGraceMs: number;
    /** How long a job stopped by a provider's rate or usage limit waits when the limit gave no reset time. */
    rateLimitBackoffS: number;
  };
  worktrees: {
    root: string;
    /** Finished jobs' worktrees kept for inspection (0: removed as soon as the job ends). */
    retainFinished: number;
    /** A finished worktree older than this is removed even if retained. */
    maxAgeS: number;
    janitorIntervalS: number;
  };
  agents: {
    claudeCommand: string;
    claudeModel: string | undefined;
    claudeMaxTurns: number | undefined;
    /** Default acceptEdits: print mode cannot ask, and bypassPermissions is refused to root. */
    claudePermissionMode: string | undefined;
    /** Tools Claude Code may use without asking (AUTOBUILD_CLAUDE_ALLOWED_TOOLS, comma-separated; empty: none). */
    claudeAllowedTools: string[];
    codexCommand: string;
    codexModel: string | undefined;
    /** Default workspace-write: the worktree is the agent's sandbox. */
    codexSandbox: string | undefined;
  };
  /** Spending: a job's default limit and the prices that turn tokens into dollars where the agent reports none. */
  costs: {
    /** Default max_cost_usd of a job (AUTOBUILD_MAX_COST_USD); undefined: unlimited. */
    maxCostUsd: number | undefined;
    /** Per model-name prefix, dollars per million tokens (AUTOBUILD_PRICES, JSON, over the built-in table). */
    prices: Record<string, ModelPrice>;
  };
  bodyLimitBytes: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Source = Record<string, string | undefined>;

function readConfigFile(file: string): Source {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object of setting names to values`);
  }
  const out: Source = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === null || value === undefined) continue;
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

function int(source: Source, name: string, fallback: number, min: number, max: number): number {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

function oneOf<T extends string>(source: Source, name: string, allowed: readonly T[], fallback: T): T {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, not "${raw}"`);
  }
  return raw as T;
}

function url(source: Source, name: string): string | undefined {
  const raw = source[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, not "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

function bool(source: Source, name: string, fallback: boolean): boolean {
  const raw = source[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, not "${source[name]}"`);
}

function text(source: Source, name: string): string | undefined {
  const raw = source[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** Tools a Claude Code agent may use without asking: edit files and run commands in its worktree. */
export const DEFAULT_CLAUDE_TOOLS = ['Bash', 'Edit', 'MultiEdit', 'Write', 'NotebookEdit', 'Read', 'Glob', 'Grep', 'LS', 'TodoWrite', 'Task'];

/**
 * Built-in prices (dollars per million tokens) by model-name prefix; the longest matching prefix
 * wins. Cache reads cost a tenth of input and cache writes 1.25 times, unless given.
 */
export const DEFAULT_PRICES: Record<string, ModelPrice> = {
  'claude-opus-4-0': { input: 15, output: 75 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4-2025': { input: 15, output: 75 },
  'claude-3-opus': { input: 15, output: 75 },
  'claude-opus': { input: 5, output: 25 },
  'claude-sonnet': { input: 3, output: 15 },
  'claude-3-5-sonnet': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-haiku': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'gpt-5': { input: 1.25, output: 10, cache_read: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cache_read: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cache_read: 0.005 },
  'gpt-4.1': { input: 2, output: 8, cache_read: 0.5 },
  o3: { input: 2, output: 8, cache_read: 0.5 },
  'o4-mini': { input: 1.1, output: 4.4, cache_read: 0.275 },
};

function list(source: Source, name: string): string[] | undefined {
  const raw = source[name];
  if (raw === undefined) return undefined;
  return raw.split(',').map((item) => item.trim()).filter(Boolean);
}

function dollars(source: Source, name: string): number | undefined {
  const raw = source[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be a number of dollars, 0 or more, not "${raw}"`);
  return value;
}

function priceTable(source: Source, name: string): Record<string, ModelPrice> {
  const raw = source[name];
  if (raw === undefined || raw === '') return { ...DEFAULT_PRICES };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} must be JSON: {"<model prefix>": {"input": dollars per million tokens, "output": ..., "cache_read"?: ..., "cache_write"?: ...}}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${name} must be a JSON object of model prefixes to prices`);
  const table = { ...DEFAULT_PRICES };
  for (const [prefix, price] of Object.entries(parsed as Record<string, unknown>)) {
    const p = price as Record<string, unknown> | null;
    const ok = (v: unknown, optional: boolean) => (optional && v === undefined) || (typeof v === 'number' && Number.isFinite(v) && v >= 0);
    if (!p || typeof p !== 'object' || !ok(p.input, false) || !ok(p.output, false) || !ok(p.cache_read, true) || !ok(p.cache_write, true)) {
      throw new ConfigError(`${name}: the price of "${prefix}" needs numbers input and output (dollars per million tokens), optional cache_read and cache_write`);
    }
    table[prefix] = p as unknown as ModelPrice;
  }
  return table;
}

/**
 * A 32nd of the memory this process may use (the machine's, or a container's limit when lower), from
 * PGlite's own 128 MB up to 512 MB (no faster beyond, measured).
 */
export function defaultSharedBuffersMb(): number {
  // constrainedMemory() is the cgroup limit, or a huge number (or 0/undefined) when there is none.
  const limit = process.constrainedMemory?.() || Infinity;
  const memory = Math.min(totalmem(), limit);
  return Math.min(512, Math.max(128, Math.floor(memory / 32 / 1024 / 1024)));
}

/** PGlite's WASM memory is capped at 2 GB, shared with everything else it allocates: 1.5 GB no longer opens safely. */
export const MAX_SHARED_BUFFERS_MB = 1024;

/**
 * Build the configuration. `env` is normally process.env (passed in by the CLI, the only reader);
 * tests pass their own object.
 */
export function loadConfig(env: Source): Config {
  const home = path.resolve(env.AUTOBUILD_HOME || './.autobuild');
  const configFile = env.AUTOBUILD_CONFIG || path.join(home, 'config.json');
  const fromFile = env.AUTOBUILD_CONFIG || existsSync(configFile) ? readConfigFile(configFile) : {};
  const source: Source = { ...fromFile };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) source[key] = value;

  const maxTurns = text(source, 'AUTOBUILD_CLAUDE_MAX_TURNS');
  const publicUrl = url(source, 'AUTOBUILD_PUBLIC_URL');
  const oidcEnabled = bool(source, 'AUTOBUILD_GITHUB_OIDC', false);
  const oidcAudience = text(source, 'AUTOBUILD_GITHUB_OIDC_AUDIENCE') ?? publicUrl;
  if (oidcEnabled && !oidcAudience) {
    throw new ConfigError('AUTOBUILD_GITHUB_OIDC needs an audience: set AUTOBUILD_PUBLIC_URL or AUTOBUILD_GITHUB_OIDC_AUDIENCE');
  }
  return {
    home,
    host: text(source, 'AUTOBUILD_HOST') ?? '127.0.0.1',
    orchestratorPort: int(source, 'ORCHESTRATOR_PORT', 8080, 0, 65535),
    memoryPort: int(source, 'MEMORY_PORT', 8000, 0, 65535),
    webPort: int(source, 'WEB_PORT', 3000, 0, 65535),
    databaseUrl: text(source, 'DATABASE_URL'),
    pgliteSharedBuffersMb: int(source, 'AUTOBUILD_PGLITE_SHARED_BUFFERS_MB', defaultSharedBuffersMb(), 16, MAX_SHARED_BUFFERS_MB),
    apiToken: text(source, 'AUTOBUILD_API_TOKEN'),
    logFormat: oneOf(source, 'AUTOBUILD_LOG_FORMAT', ['auto', 'text', 'json'] as const, 'auto'),
    logLevel: oneOf(source, 'AUTOBUILD_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    maxParallel: int(source, 'AUTOBUILD_MAX_PARALLEL', 12, 1, 10_000),
    memoryServiceUrl: url(source, 'MEMORY_SERVICE_URL'),
    publicUrl,
    callbackSecret: text(source, 'AUTOBUILD_CALLBACK_SECRET'),
    github: {
      token: text(source, 'GITHUB_TOKEN'),
      apiUrl: url(source, 'GITHUB_API_URL') ?? 'https://api.github.com',
      pollS: int(source, 'AUTOBUILD_GITHUB_POLL_S', 30, 1, 3600),
      startTimeoutS: int(source, 'AUTOBUILD_GITHUB_START_TIMEOUT_S', 900, 1, 24 * 3600),
      callbackGraceS: int(source, 'AUTOBUILD_GITHUB_CALLBACK_GRACE_S', 120, 0, 24 * 3600),
      writeIntervalMs: int(source, 'AUTOBUILD_GITHUB_WRITE_INTERVAL_MS', 1000, 0, 60_000),
      oidc: {
        enabled: oidcEnabled,
        issuer: url(source, 'AUTOBUILD_GITHUB_OIDC_ISSUER') ?? 'https://token.actions.githubusercontent.com',
        audience: oidcAudience,
      },
    },
    anthropic: {
      apiKey: text(source, 'ANTHROPIC_API_KEY'),
      baseUrl: url(source, 'ANTHROPIC_BASE_URL'),
      model: text(source, 'AUTOBUILD_LLM_MODEL') ?? 'claude-sonnet-4-5',
    },
    embedding: {
      provider: oneOf(source, 'EMBEDDING_PROVIDER', ['auto', 'minilm', 'openai', 'hash'] as const, 'auto'),
      model: text(source, 'EMBEDDING_MODEL'),
      modelDir: path.resolve(text(source, 'EMBEDDING_MODEL_DIR') ?? path.join(home, 'models')),
      allowDownload: bool(source, 'EMBEDDING_ALLOW_DOWNLOAD', false),
      openaiBaseUrl: url(source, 'OPENAI_BASE_URL'),
      openaiApiKey: text(source, 'OPENAI_API_KEY'),
      dimensions: text(source, 'EMBEDDING_DIMENSIONS') === undefined ? undefined : int(source, 'EMBEDDING_DIMENSIONS', 0, 1, 16_000),
    },
    memory: {
      indexBodyLimitBytes: int(source, 'MEMORY_INDEX_BODY_LIMIT_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      maxInlineFiles: int(source, 'MEMORY_INDEX_MAX_FILES', 10_000, 1, 1_000_000),
    },
    jobs: {
      defaultAgent: oneOf(source, 'AUTOBUILD_DEFAULT_AGENT', ['claude-code', 'codex', 'command'] as const, 'claude-code'),
      defaultTimeoutS: int(source, 'AUTOBUILD_JOB_TIMEOUT_S', 1800, 1, 7 * 24 * 3600),
      leaseS: int(source, 'AUTOBUILD_LEASE_S', 30, 2, 3600),
      retryBackoffS: int(source, 'AUTOBUILD_RETRY_BACKOFF_S', 10, 0, 3600),
      retryBackoffMaxS: int(source, 'AUTOBUILD_RETRY_BACKOFF_MAX_S', 600, 0, 24 * 3600),
      killGraceMs: int(source, 'AUTOBUILD_KILL_GRACE_MS', 5000, 0, 600_000),
      rateLimitBackoffS: int(source, 'AUTOBUILD_RATE_LIMIT_BACKOFF_S', 300, 1, 7 * 24 * 3600),
    },
    costs: {
      maxCostUsd: dollars(source, 'AUTOBUILD_MAX_COST_USD'),
      prices: priceTable(source, 'AUTOBUILD_PRICES'),
    },
    worktrees: {
      root: path.join(home, 'worktrees'),
      retainFinished: int(source, 'AUTOBUILD_WORKTREE_RETAIN', 0, 0, 10_000),
      maxAgeS: int(source, 'AUTOBUILD_WORKTREE_MAX_AGE_S', 7 * 24 * 3600, 1, 365 * 24 * 3600),
      janitorIntervalS: int(source, 'AUTOBUILD_JANITOR_INTERVAL_S', 300, 1, 24 * 3600),
    },
    agents: {
      claudeCommand: text(source, 'AUTOBUILD_CLAUDE_COMMAND') ?? 'claude',
      claudeModel: text(source, 'AUTOBUILD_CLAUDE_MODEL'),
      claudeMaxTurns: maxTurns === undefined ? undefined : int(source, 'AUTOBUILD_CLAUDE_MAX_TURNS', 0, 1, 10_000),
      claudePermissionMode: oneOf(source, 'AUTOBUILD_CLAUDE_PERMISSION_MODE', ['default', 'acceptEdits', 'bypassPermissions', 'plan'] as const, 'acceptEdits'),
      claudeAllowedTools: list(source, 'AUTOBUILD_CLAUDE_ALLOWED_TOOLS') ?? [...DEFAULT_CLAUDE_TOOLS],
      codexCommand: text(source, 'AUTOBUILD_CODEX_COMMAND') ?? 'codex',
      codexModel: text(source, 'AUTOBUILD_CODEX_MODEL'),
      codexSandbox: oneOf(source, 'AUTOBUILD_CODEX_SANDBOX', ['read-only', 'workspace-write', 'danger-full-access'] as const, 'workspace-write'),
    },
    bodyLimitBytes: int(source, 'AUTOBUILD_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
  };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A service bound beyond loopback must have a token (contract: "refuses to start without a token"). */
export function assertSafeBind(config: Pick<Config, 'host' | 'apiToken'>): void {
  if (!isLoopbackHost(config.host) && !config.apiToken) {
    throw new ConfigError(
      `refusing to listen on ${config.host} without AUTOBUILD_API_TOKEN: set a token, or bind to 127.0.0.1`,
    );
  }
}
