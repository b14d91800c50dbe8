/**
 * The one logger of every process: structured JSON (pino) for machines, pretty lines for people in dev.
 * Secrets never reach a log line: values under secret-looking keys are replaced wherever they sit in
 * the object, and strings (messages included) are scrubbed of `code=…`/`token=…` query parameters and
 * Bearer credentials, because error messages and URLs carry them in passing.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { WORKFLOW_ID_PREFIX } from './workflow-names';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** The process or component, e.g. "worker", "api". */
  name: string;
  /** Case-insensitive pino level; default "info". */
  level?: string;
  /** Human-readable lines instead of JSON; default: stdout is a TTY or LOG_PRETTY=1. */
  pretty?: boolean;
  /** Where lines go; default stdout. Tests pass a capturing stream. */
  destination?: DestinationStream;
}

export const REDACTED = '[redacted]';

// Keys whose values are secrets however they are spelled (clientSecret, access_token, Authorization …).
// Matched at the end of the key, so e.g. `tokenTaskQueue` or `statusCode` stay readable.
const SECRET_KEY =
  /(token|secret|password|passwd|authorization|cookie|verifier|api_?key|apikey|credentials?|seal_?keys?|signing_?key|ticket|invitation_?url)$/i;
// An OAuth authorization code under any common key.
const CODE_KEY = /^(code|auth_?code|authorization_?code|sealed_?code)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || CODE_KEY.test(key);
}

const SECRET_NAMES =
  'code|state|ticket|access_token|id_token|refresh_token|token|client_secret|code_verifier|password';
// `name=value` in query strings and form bodies (a consent link's `ticket` is a credential too).
const SECRET_PARAM = new RegExp(`\\b(${SECRET_NAMES})=([^&\\s"'#]+)`, 'gi');
// `"name": "value"` in JSON that travels as text (an upstream's echoed request body in an error message).
const SECRET_JSON = new RegExp(`"(${SECRET_NAMES})"(\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi');
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
// A Standard Webhooks secret, and our cookies' values (`Cookie:`/`Set-Cookie:` headers as text).
const WEBHOOK_SECRET = /\bwhsec_[A-Za-z0-9+/=]+/g;
const OUR_COOKIE = /\b((?:__Host-)?otto-[a-z-]+)=([^;\s"']+)/gi;

/** Removes credentials that travel inside text: parameters, JSON fields, Authorization values, cookies. */
export function scrubText(text: string): string {
  return text
    .replace(SECRET_PARAM, `$1=${REDACTED}`)
    .replace(SECRET_JSON, `"$1"$2"${REDACTED}"`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(WEBHOOK_SECRET, `whsec_${REDACTED}`)
    .replace(OUR_COOKIE, `$1=${REDACTED}`);
}

/** A copy of `value` with secret-looking keys redacted and all strings scrubbed; cycles are cut. */
export function redact(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, seen));
  if (value instanceof Error) {
    // pino's error serializer would see the raw message and stack; hand it scrubbed ones.
    const out: Record<string, unknown> = {
      type: value.name,
      message: scrubText(value.message),
      stack: value.stack === undefined ? undefined : scrubText(value.stack),
    };
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : redact(v, seen);
    if (value.cause !== undefined) out.cause = redact(value.cause, seen);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : redact(v, seen);
  return out;
}

function prettyWanted(): boolean {
  if (process.env.LOG_PRETTY === '1' || process.env.LOG_PRETTY === 'true') return true;
  if (process.env.LOG_PRETTY === '0' || process.env.LOG_PRETTY === 'false') return false;
  return process.stdout.isTTY;
}

export function createLogger(options: LoggerOptions): Logger {
  const level = (options.level ?? 'info').toLowerCase();
  const usePretty = options.pretty ?? prettyWanted();
  const destination =
    options.destination ??
    (usePretty
      ? // Synchronous, in-thread: a worker-thread transport would lose the last lines on process.exit.
        pretty({
          sync: true,
          colorize: process.stdout.isTTY,
          ignore: 'pid,hostname',
          translateTime: 'HH:MM:ss.l',
        })
      : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      name: options.name,
      level: (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info',
      base: { pid: process.pid },
      // The error serializer runs before formatters.log: give it the already scrubbed error.
      serializers: { err: (err: unknown) => redact(err), error: (err: unknown) => redact(err) },
      formatters: { log: (object) => redact(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a) : a));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

/**
 * Log fields that tie a line to a seller's workflow. Activities pass `Context.current().info`
 * (it has `workflowExecution`); anything with a workflowId works.
 */
export function sellerLogFields(info: {
  workflowExecution?: { workflowId: string; runId: string };
  workflowId?: string;
  runId?: string;
  activityType?: string;
}): { sellerId?: string; workflowId?: string; runId?: string; activityType?: string } {
  const workflowId = info.workflowExecution?.workflowId ?? info.workflowId;
  const runId = info.workflowExecution?.runId ?? info.runId;
  const sellerId = workflowId?.startsWith(WORKFLOW_ID_PREFIX)
    ? workflowId.slice(WORKFLOW_ID_PREFIX.length)
    : undefined;
  return {
    ...(sellerId === undefined ? {} : { sellerId }),
    ...(workflowId === undefined ? {} : { workflowId }),
    ...(runId === undefined ? {} : { runId }),
    ...(info.activityType === undefined ? {} : { activityType: info.activityType }),
  };
}
