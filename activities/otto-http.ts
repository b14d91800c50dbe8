/**
 * The low-level HTTP used to talk to OTTO: form and JSON requests with a timeout (OTTO gives up after
 * 10 s), error bodies kept for classification, and `Retry-After` parsed. Never logs or echoes a token.
 */
export type FetchFn = typeof fetch;

export class OttoHttpError extends Error {
  override name = 'OttoHttpError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** RFC 6749 `error` code or a short reason from the body, if any. */
    readonly reason: string | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`OTTO answered ${status}${reason ? ` (${reason})` : ''} to ${method} ${path}`);
  }
}

/** The network failed (refused, reset, timed out): always worth retrying. */
export class OttoNetworkError extends Error {
  override name = 'OttoNetworkError';
}

export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  bearer?: string;
  form?: Record<string, string>;
  json?: unknown;
  timeoutMs?: number;
}

export async function ottoRequest<T = unknown>(
  fetchFn: FetchFn,
  req: HttpRequest,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (req.bearer) headers.authorization = `Bearer ${req.bearer}`;
  if (req.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(req.form).toString();
  } else if (req.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.json);
  }
  const path = new URL(req.url).pathname;
  let res: Response;
  try {
    res = await fetchFn(req.url, {
      method: req.method,
      headers,
      body,
      signal: AbortSignal.timeout(req.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    throw new OttoNetworkError(`${req.method} ${path} failed: ${cause}`);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) {
    throw new OttoHttpError(
      req.method,
      path,
      res.status,
      reasonOf(parsed),
      parseRetryAfter(res.headers.get('retry-after'), Date.now()),
    );
  }
  return { status: res.status, body: parsed as T };
}

function reasonOf(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const key of ['error', 'code', 'title', 'message']) {
      const value = b[key];
      if (typeof value === 'string') return value.slice(0, 100);
      if (value && typeof value === 'object' && typeof (value as Record<string, unknown>).code === 'string') {
        return String((value as Record<string, unknown>).code).slice(0, 100);
      }
    }
  }
  return undefined;
}
