// What both typed clients share: the error a service answered (the contract's error body), and
// URLs shown without credentials.

/** A non-2xx answer, with the contract's error code, message and details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The URL without credentials, for messages. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/+$/, '');
  } catch {
    return url;
  }
}

/** The ApiError a failed response carries (its error body, or the bare status). */
export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      return new ApiError(response.status, error.code, error.message, error.details);
    }
  } catch {
    // not the contract's error body
  }
  return new ApiError(response.status, `http_${response.status}`, `HTTP ${response.status} ${response.statusText || 'error'}`);
}

/**
 * A transport error's text fit to show: user:password@ in any URL (fetch quotes the whole URL when
 * it refuses one with credentials) and the token (it quotes a header value it cannot send) removed.
 */
export function scrubbed(text: string, token: string | undefined): string {
  const withoutUrlCredentials = text.replace(/\/\/[^/@\s]*@/g, '//');
  return token ? withoutUrlCredentials.split(token).join('[token]') : withoutUrlCredentials;
}

/** A 2xx body the client can use: a JSON object, with the field every answer of that route has when one is named. */
export function hasField(body: unknown, field: string | undefined): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && (field === undefined || field in body);
}
