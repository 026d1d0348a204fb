// The one error type of both services, and the catalogue of machine codes with their HTTP status.
// The HTTP kit turns an AppError into the contract's error body; anything else becomes a generic 500.

export const ERROR_CODES = {
  validation_failed: 400,
  malformed_json: 400,
  invalid_cursor: 400,
  invalid_id: 400,
  invalid_repo: 400,
  invalid_ref: 400,
  unauthorized: 401,
  not_found: 404,
  job_not_found: 404,
  project_not_found: 404,
  branch_not_found: 404,
  state_conflict: 409,
  job_finished: 409,
  callback_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  idempotency_key_reused: 422,
  unknown_ref: 422,
  request_timeout: 408,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  upstream_failed: 502,
  dependency_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = details;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

/** One offending field in a 400's details. */
export interface FieldProblem {
  field: string;
  message: string;
}

export function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field}: ${message}`, [{ field, message } satisfies FieldProblem]);
}
