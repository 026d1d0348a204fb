// What every client command checks about how it reaches a service before sending anything: the
// token must fit in an HTTP header (a fetch error about it would print it back), and how long one
// answer may take (AUTOBUILD_CLIENT_TIMEOUT_S, so a hung service cannot hold the CLI for minutes).
import { CliError } from './failure.js';

const TIMEOUT_ENV = 'AUTOBUILD_CLIENT_TIMEOUT_S';

/** The token, or a CliError that names the problem without showing the token. */
export function checkedToken(token: string | undefined): string | undefined {
  if (!token) return undefined;
  // Visible ASCII only: what a bearer token can be (RFC 6750), so it goes in a header as given.
  if (!/^[\x21-\x7e]+$/.test(token)) throw new CliError('the API token contains characters an HTTP header cannot carry (spaces, control characters or non-ASCII); check --token or AUTOBUILD_API_TOKEN');
  return token;
}

/** Per-request time limit in ms: AUTOBUILD_CLIENT_TIMEOUT_S when set, else the command's own default. */
export function requestTimeoutMs(defaultMs: number, env: NodeJS.ProcessEnv = process.env): number {
  const value = env[TIMEOUT_ENV]?.trim();
  if (value === undefined || value === '') return defaultMs;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 86_400) throw new CliError(`${TIMEOUT_ENV} must be a whole number of seconds from 1 to 86400, not "${value}"`);
  return Number(value) * 1000;
}
