// The GitHub REST client both sides use (orchestrator executor and `autobuild runner`): Octokit
// against GITHUB_API_URL (GitHub Enterprise and test servers work), with GitHub's own retry and
// throttling plugins, so rate limits wait out Retry-After and 5xx are retried with backoff.
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck';
import type { Logger } from './logger.js';

const GithubClient = Octokit.plugin(retry, throttling);
export type GithubClient = InstanceType<typeof GithubClient>;

export interface GithubClientOptions {
  token: string | undefined;
  apiUrl: string;
  logger: Logger;
  /** Retries of a rate-limited or failing request before giving up. */
  maxRetries?: number;
  /** GitHub asks for ~1 s between mutating requests; tests lower it. */
  writeIntervalMs?: number;
  /** Base of plugin-retry's backoff for 5xx (ms). */
  retryBaseMs?: number;
}

export function createGithubClient(options: GithubClientOptions): GithubClient {
  const maxRetries = options.maxRetries ?? 4;
  const log = options.logger;
  return new GithubClient({
    auth: options.token,
    baseUrl: options.apiUrl,
    userAgent: 'autobuild',
    // Retries belong to plugin-retry's own options: a `request.retries` default would make it retry
    // every failed request, 4xx included (a 422 cost ~4 s, a lasting 5xx ~65 s, measured).
    retry: { retries: maxRetries, retryAfterBaseValue: options.retryBaseMs ?? 1000 },
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => log.warn({ github: true }, message),
      error: (message: string) => log.warn({ github: true }, message),
    },
    throttle: {
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeIntervalMs ?? 1000 }),
      onRateLimit: (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
        log.warn({ retryAfter, method: request.method, url: request.url, retryCount }, 'GitHub rate limit; waiting');
        return retryCount < maxRetries;
      },
      onSecondaryRateLimit: (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
        log.warn({ retryAfter, method: request.method, url: request.url, retryCount }, 'GitHub secondary rate limit; waiting');
        return retryCount < maxRetries;
      },
    },
  });
}

/** A GitHub error's status and message, without request details that may hold a token. */
export function describeGithubError(error: unknown): { status: number | undefined; message: string } {
  const e = error as { status?: number; message?: string; response?: { data?: { message?: string } } };
  const message = e.response?.data?.message ?? e.message ?? String(error);
  return { status: e.status, message: message.replace(/(gh[pousr]_|github_pat_)[A-Za-z0-9_]+/g, '[REDACTED]') };
}
