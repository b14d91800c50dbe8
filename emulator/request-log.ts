import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * How the Bearer token of a request looked to the emulator. `invalid` (a token the emulator never issued)
 * is an addition to docs/design.md §6's list; requests to endpoints that take no Bearer token have no `token`.
 */
export type TokenFreshness = 'valid' | 'expired' | 'revoked' | 'missing' | 'wrong_scope' | 'invalid';

export interface RequestLogEntry {
  seq: number;
  at: string;
  method: string;
  path: string;
  /** The query string with secret-looking values redacted. */
  query?: string;
  status: number;
  durationMs: number;
  partnerId?: string;
  appId?: string;
  installationId?: string;
  token?: TokenFreshness;
  /** Id of the injected fault that answered or delayed this request. */
  fault?: string;
}

/** What handlers learn about a request, attached to res.locals and copied into the log when it ends. */
export interface RequestFacts {
  partnerId?: string;
  appId?: string;
  installationId?: string;
  token?: TokenFreshness;
  fault?: string;
}

export function facts(res: Response): RequestFacts {
  const locals = res.locals as { facts?: RequestFacts };
  locals.facts ??= {};
  return locals.facts;
}

const SECRET_KEYS = /secret|password|code|verifier|token|assertion/i;

function redactedQuery(req: Request): string | undefined {
  const raw = req.originalUrl.split('?')[1];
  if (!raw) return undefined;
  const params = new URLSearchParams(raw);
  for (const key of [...new Set(params.keys())]) {
    // code_challenge is public by design; everything else that looks like a credential is hidden.
    if (SECRET_KEYS.test(key) && key !== 'code_challenge' && key !== 'code_challenge_method') {
      params.set(key, '[redacted]');
    }
  }
  return params.toString();
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  constructor(
    private readonly limit: number,
    private readonly now: () => number,
  ) {}

  /** Records every request except the admin API's own, which is the test harness talking, not OTTO traffic. */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (req.path.startsWith('/__admin')) {
        next();
        return;
      }
      const startedAt = this.now();
      const startedHr = process.hrtime.bigint();
      res.on('finish', () => {
        // A listener that throws would take the process down: a log entry is not worth that.
        try {
          const f = facts(res);
          const query = redactedQuery(req);
          this.add({
            seq: ++this.seq,
            at: new Date(startedAt).toISOString(),
            method: req.method,
            path: req.path,
            ...(query !== undefined ? { query } : {}),
            status: res.statusCode,
            durationMs: Number((process.hrtime.bigint() - startedHr) / 1_000_000n),
            ...f,
          });
        } catch {
          // Dropped: the request itself was answered.
        }
      });
      next();
    };
  }

  private add(entry: RequestLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  since(sinceMs: number | undefined): RequestLogEntry[] {
    if (sinceMs === undefined) return [...this.entries];
    return this.entries.filter((e) => Date.parse(e.at) >= sinceMs);
  }

  clear(): void {
    this.entries = [];
  }
}
