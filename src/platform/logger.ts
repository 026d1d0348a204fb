// Structured logging with pino; secrets in headers and known secret values never reach the output.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level: string; secrets?: Array<string | undefined>; destination?: NodeJS.WritableStream }): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 4);
  return pino(
    {
      level: options.level,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', '*.apiToken', '*.callbackSecret', '*.token', '*.apiKey', '*.password'],
        censor: '[REDACTED]',
      },
      ...(secrets.length > 0 && {
        hooks: {
            // Last line of defence: a secret that slipped into a message string is masked too.
            logMethod(args, method) {
              const masked = args.map((arg) => (typeof arg === 'string' ? secrets.reduce((out, s) => out.split(s).join('[REDACTED]'), arg) : arg));
              method.apply(this, masked as Parameters<typeof method>);
            },
          },
        }),
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
}
