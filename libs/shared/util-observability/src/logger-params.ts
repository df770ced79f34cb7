import type { Params } from 'nestjs-pino';
import type { LevelWithSilent } from 'pino';
import { scrubbingDestination } from './secret-scrubber';

/** Header and field paths never written to logs. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'authorization',
  'apiKey',
  'adminToken',
  'password',
];

/** How a process logs: one JSON object per line on stdout. */
export interface LoggerOptions {
  /** `gateway` or `worker`; every line carries it as `service`. */
  service: string;
  /** Stable id of this replica (gateway id or worker id). */
  instance: string;
  level: LevelWithSilent;
  /** Where lines go; default stdout. Tests pass a collector. */
  destination?: { write(chunk: string): unknown };
}

/**
 * nestjs-pino settings shared by both apps: JSON lines with `service` and `instance`,
 * credentials redacted by path, Marquee keys masked anywhere in the line. Request context
 * (`requestId`, `tenantId`, `model`) is bound per request by the gateway's Fastify hooks.
 */
export function loggerParams(options: LoggerOptions): Params {
  return {
    pinoHttp: [
      {
        level: options.level,
        base: { service: options.service, instance: options.instance },
        messageKey: 'msg',
        redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        // Fastify's id (copied onto the raw request by its middleware layer).
        genReqId: (req) => req.id ?? '',
        customAttributeKeys: { reqId: 'requestId' },
        // The gateway writes its own "request completed" line (Fastify hooks see SSE streams
        // to their end and know the route, tenant and model); the worker serves no API.
        autoLogging: false,
        serializers: {
          req: (req: {
            method?: string;
            url?: string;
            headers?: Record<string, unknown>;
            remoteAddress?: string;
          }) => ({
            method: req.method,
            url: req.url,
            userAgent: req.headers?.['user-agent'],
            remoteAddress: req.remoteAddress,
          }),
          res: (res: { statusCode?: number }) => ({
            statusCode: res.statusCode,
          }),
        },
      },
      scrubbingDestination(options.destination),
    ],
    assignResponse: true,
  };
}
