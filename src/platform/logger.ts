// Structured logging with pino; secrets in headers and known secret values never reach the output.
// JSON lines for machines (piped, or asked for); on a terminal, text a person reads (pino-pretty).
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'text' | 'json';

/** Text on a terminal (auto), or as asked. */
export function usesText(format: LogFormat, stream: { isTTY?: boolean } = process.stderr): boolean {
  return format === 'text' || (format === 'auto' && stream.isTTY === true);
}

export function createLogger(options: { level: string; secrets?: Array<string | undefined>; destination?: NodeJS.WritableStream; format?: LogFormat }): Logger {
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
    (options.destination as pino.DestinationStream | undefined) ??
      (usesText(options.format ?? 'json')
        ? pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })
        : pino.destination(2)),
  );
}
