/**
 * The low-level HTTP used to talk to OTTO: form and JSON requests with a timeout (OTTO gives up after
 * 10 s) and the activity's cancellation signal, error bodies kept for classification, and `Retry-After`
 * parsed. Never logs or echoes a token.
 */
import { Context } from '@temporalio/activity';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import type { ActivityMetrics } from './activity-metrics';
import { cancellationError } from './activity-waits';

export type FetchFn = typeof fetch;

/** What one exchange with OTTO needs from HTTP: the status, a header, the body as text. */
export interface HttpAnswer {
  status: number;
  /** A response header's value (the first, if repeated), or null. */
  header(name: string): string | null;
  text(): Promise<string>;
}

export interface HttpExchange {
  method: HttpRequest['method'];
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
  /** Always `manual`: a 3xx is OTTO's answer, never followed (see ottoRequest). */
  redirect: 'manual';
}

/**
 * How the OTTO clients send a request: rejects only when no answer came (network, abort); any status is
 * an answer. Production uses `undiciTransport()`; tests may wrap it or pass a fetch (`fetchTransport`).
 */
export type HttpTransport = (url: string, exchange: HttpExchange) => Promise<HttpAnswer>;

/** A transport over a WHATWG fetch (tests' fakes and recorders; the webhooks use fetch directly). */
export function fetchTransport(fetchFn: FetchFn): HttpTransport {
  return async (url, { method, headers, body, signal, redirect }) => {
    const res = await fetchFn(url, { method, headers, body, signal, redirect });
    return { status: res.status, header: (name) => res.headers.get(name), text: () => res.text() };
  };
}

/** The injectable HTTP of the OTTO clients: `ottoTransport` when given, else `fetch` when given, else undici. */
export interface OttoHttpDeps {
  /** How OTTO is called (default: `undiciTransport()`); tests wrap it to record or to fail requests. */
  ottoTransport?: HttpTransport;
  /** A fetch to call OTTO with instead (tests' fakes), unless `ottoTransport` is given; webhooks use it too. */
  fetch?: FetchFn;
  /**
   * Told once per endpoint and process when OTTO announces an endpoint's end (Sunset / Deprecation
   * headers). Default: `warnOttoDeprecation` (a warning in the activity's log).
   */
  onOttoDeprecation?: OttoDeprecationListener;
}

/**
 * OTTO announcing the end of an endpoint (docs/otto-api.md §5 General: old major versions live 6 months
 * after their successor; watch `Sunset`, `Deprecation` and `Link rel="successor-version"`).
 */
export interface OttoDeprecation {
  /** The route pattern (`ottoEndpoint()`), e.g. `/v4/orders`. */
  endpoint: string;
  method: string;
  /** The status of the answer that carried the headers. */
  status: number;
  /** The headers as OTTO sent them (null when absent). */
  deprecation: string | null;
  sunset: string | null;
  /** The same as ISO 8601 dates, when they read as dates (`@<epoch seconds>` or an HTTP date). */
  deprecatedAt: string | null;
  sunsetAt: string | null;
  /** The `Link` with `rel="successor-version"`, resolved against the request's URL; null when none. */
  successor: string | null;
}

export type OttoDeprecationListener = (notice: OttoDeprecation) => void;

/** The endpoints this process has warned about (once each: every answer of a deprecated endpoint carries the headers). */
const deprecationsWarned = new Set<string>();

/** Forgets which endpoints were warned about (tests). */
export function forgetOttoDeprecationWarnings(): void {
  deprecationsWarned.clear();
}

/** One line for the log: what ends when, and what comes after it. */
export function describeOttoDeprecation(n: OttoDeprecation): string {
  const deprecated = n.deprecation === null ? '' : ` deprecated ${n.deprecatedAt ?? n.deprecation};`;
  const sunset = ` sunset ${n.sunset === null ? 'not announced' : (n.sunsetAt ?? n.sunset)};`;
  const successor = ` successor ${n.successor ?? 'not named'}`;
  return `OTTO announces the end of ${n.method} ${n.endpoint}:${deprecated}${sunset}${successor} (old major versions live 6 months: move to the successor before the sunset)`;
}

/** The default listener: a warning in the current activity's log (the worker's log outside one). */
export function warnOttoDeprecation(notice: OttoDeprecation): void {
  let log: Pick<Context['log'], 'warn'>;
  try {
    log = Context.current().log;
  } catch {
    log = { warn: (message, m) => console.warn(message, m) };
  }
  log.warn(describeOttoDeprecation(notice), notice);
}

/** `@1688169599` (RFC 9745) or an HTTP date (RFC 8594 Sunset, older Deprecation drafts) as ISO 8601; else null. */
function headerDate(value: string | null): string | null {
  if (value === null) return null;
  const v = value.trim();
  const epoch = /^@(-?\d+)$/.exec(v);
  const ms = epoch ? Number(epoch[1]) * 1_000 : /^\d+$/.test(v) ? NaN : Date.parse(v);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** The target of the first `Link` (RFC 8288) whose `rel` includes `rel`, resolved against `base`. */
function linkHeaderTarget(value: string | null, rel: string, base: string): string | null {
  if (!value) return null;
  for (const match of value.matchAll(/<([^>]*)>([^<]*)/g)) {
    const params = match[2] ?? '';
    const rels = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params);
    const names = (rels?.[1] ?? rels?.[2] ?? '').toLowerCase().split(/\s+/);
    if (!names.includes(rel.toLowerCase())) continue;
    try {
      return new URL(match[1] ?? '', base).toString();
    } catch {
      return match[1] ?? null;
    }
  }
  return null;
}

/** Tells `listener` (once per endpoint and process) when `res` announces its endpoint's end. */
function noticeDeprecation(req: HttpRequest, path: string, res: HttpAnswer): void {
  if (req.onDeprecation === undefined) return;
  const deprecation = res.header('deprecation');
  const sunset = res.header('sunset');
  if (deprecation === null && sunset === null) return;
  const endpoint = ottoEndpoint(path);
  if (deprecationsWarned.has(endpoint)) return;
  deprecationsWarned.add(endpoint);
  // A listener's hiccup never fails a call to OTTO.
  try {
    req.onDeprecation({
      endpoint,
      method: req.method,
      status: res.status,
      deprecation,
      sunset,
      deprecatedAt: headerDate(deprecation),
      sunsetAt: headerDate(sunset),
      successor: linkHeaderTarget(res.header('link'), 'successor-version', req.url),
    });
  } catch {
    // ignored
  }
}

export function ottoTransportOf(deps: OttoHttpDeps): HttpTransport {
  return deps.ottoTransport ?? (deps.fetch ? fetchTransport(deps.fetch) : undiciTransport());
}

/** Who hears of OTTO's Sunset/Deprecation headers: `onOttoDeprecation` when given, else a log warning. */
export function ottoDeprecationListenerOf(deps: OttoHttpDeps): (notice: OttoDeprecation) => void {
  return deps.onOttoDeprecation ?? warnOttoDeprecation;
}

let sharedUndici: HttpTransport | undefined;

/**
 * The largest answer read from OTTO (8 MiB; a page of 128 orders is a few hundred KB): a malfunctioning
 * or hostile upstream cannot make a worker holding thousands of cached sellers buffer gigabytes. A
 * bigger answer fails the request like a network error (retried, then the seller is degraded).
 */
export const MAX_OTTO_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * The production transport: undici's `request` on one keep-alive pool per process. It costs a fifth of
 * the CPU of the global fetch per request (no WHATWG Request/Response and web streams; measured on
 * Node 24: 0.12 vs 0.58 ms per request with the timeout and cancellation signals), which a worker
 * making thousands of OTTO calls a minute feels. It follows no redirect (undici's request never does).
 */
export function undiciTransport(): HttpTransport {
  if (sharedUndici) return sharedUndici;
  const dispatcher: Dispatcher = new Agent({ maxResponseSize: MAX_OTTO_RESPONSE_BYTES });
  sharedUndici = async (url, { method, headers, body, signal }) => {
    const res = await undiciRequest(url, { method, headers, body, signal, dispatcher });
    return {
      status: res.statusCode,
      header: (name) => {
        const value = res.headers[name.toLowerCase()];
        return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
      },
      text: () => res.body.text(),
    };
  };
  return sharedUndici;
}

/** One entry of OTTO's error list (docs/otto-api.md §5.7: `{errors: [{path, title, code, detail, logref}]}`). */
export interface OttoApiError {
  code?: string | number;
  title?: string;
  detail?: string;
  path?: string;
  logref?: string;
}

export class OttoHttpError extends Error {
  override name = 'OttoHttpError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** RFC 6749 `error` code or a short reason from the body, if any. */
    readonly reason: string | undefined,
    readonly retryAfterMs: number | undefined,
    /** OAuth `error_description` or OTTO's error `detail`, when the body has one (never a secret). */
    readonly description?: string,
    /** OTTO's `errors` list (array or single object, §5.7), for messages that name what OTTO refused. */
    readonly apiErrors: OttoApiError[] = [],
  ) {
    super(`OTTO answered ${status}${reason ? ` (${reason})` : ''} to ${method} ${path}`);
  }

  /** OTTO's own words for the refusal ("title: detail (path)"; several joined), or undefined. */
  get errorText(): string | undefined {
    return describeApiErrors(this.apiErrors) ?? this.description;
  }
}

/** Reads OTTO's `errors` (an array, or one object in some generated clients) leniently. */
export function parseApiErrors(body: unknown): OttoApiError[] {
  if (!body || typeof body !== 'object') return [];
  const raw = (body as Record<string, unknown>).errors;
  const list: unknown[] = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? [raw] : [];
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 500) : undefined);
  return list
    .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
    .map((e) => ({
      code: typeof e.code === 'number' || typeof e.code === 'string' ? e.code : undefined,
      title: text(e.title),
      detail: text(e.detail),
      // Price task errors carry both: the endpoint in `path`, the entry's field in `jsonPath`.
      path: text(e.jsonPath) ?? text(e.jsonpath) ?? text(e.path),
      logref: text(e.logref),
    }));
}

/** "title: detail (path …)" per error, the first few joined; undefined for none. */
export function describeApiErrors(errors: OttoApiError[], max = 3): string | undefined {
  const parts = errors.slice(0, max).map((e) => {
    const text =
      [e.title, e.detail].filter(Boolean).join(': ') || (e.code !== undefined ? `code ${e.code}` : 'error');
    // Symbolic codes (INVALID_CURRENCY) say more than numeric ones (the HTTP status again).
    const head = typeof e.code === 'string' && e.code && !text.includes(e.code) ? `${e.code} ${text}` : text;
    return e.path ? `${head} (path ${e.path})` : head;
  });
  if (parts.length === 0) return undefined;
  const more = errors.length > max ? ` (+${errors.length - max} more)` : '';
  return `${parts.join('; ')}${more}`;
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
  /** Extra headers (never `authorization`: that is `bearer`). */
  headers?: Record<string, string>;
  /**
   * The activity's cancellation signal (`Context.current().cancellationSignal`): aborts the request in
   * flight, and the call rejects with the cancellation (a CancelledFailure), never a network error.
   */
  signal?: AbortSignal;
  /** Where the call is counted (`ottoCall`: endpoint pattern, status, latency); none = not counted. */
  metrics?: Pick<ActivityMetrics, 'ottoCall'>;
  /** Told when the answer carries Sunset or Deprecation, once per endpoint pattern and process. */
  onDeprecation?: OttoDeprecationListener;
}

/**
 * OTTO's endpoints as metric labels: a fixed list of route patterns, matched at the end of the path (an
 * API base URL may carry a prefix). Ids never become labels: an unlisted path is `other`.
 */
const OTTO_ENDPOINTS: readonly (readonly [RegExp, string])[] = [
  [/\/oauth2\/token$/, '/oauth2/token'],
  [/\/v1\/token$/, '/v1/token'],
  [/\/v1\/apps\/[^/]+\/installation$/, '/v1/apps/:appId/installation'],
  [
    /\/v1\/apps\/[^/]+\/installations\/[^/]+\/accessToken$/,
    '/v1/apps/:appId/installations/:installationId/accessToken',
  ],
  [/\/v(\d+)\/orders$/, '/v$1/orders'],
  [/\/v(\d+)\/availability\/quantities$/, '/v$1/availability/quantities'],
  [/\/v(\d+)\/products\/prices$/, '/v$1/products/prices'],
  [/\/v(\d+)\/products\/update-tasks\/[^/]+$/, '/v$1/products/update-tasks/:processUuid'],
  [
    /\/v(\d+)\/products\/update-tasks\/[^/]+\/(failed|succeeded|unchanged)$/,
    '/v$1/products/update-tasks/:processUuid/$2',
  ],
  [/\/v(\d+)\/returns$/, '/v$1/returns'],
  [/\/v(\d+)\/shipping-profiles$/, '/v$1/shipping-profiles'],
  [/\/v(\d+)\/shipping-profiles\/[^/]+$/, '/v$1/shipping-profiles/:id'],
];

/** The low-cardinality route pattern of an OTTO URL's path (`/v4/orders`, …), `other` when unlisted. */
export function ottoEndpoint(pathname: string): string {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  for (const [pattern, name] of OTTO_ENDPOINTS) {
    const match = pattern.exec(path);
    // The version is digits only (the pattern says so): never more than a handful of values.
    if (match) return name.replace('$1', match[1] ?? '').replace('$2', match[2] ?? '');
  }
  return 'other';
}

export async function ottoRequest<T = unknown>(
  transport: HttpTransport,
  req: HttpRequest,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
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
  if (req.signal?.aborted) throw cancellationError(req.signal);
  const startedAt = performance.now();
  const record = (status: string) => {
    // A metrics hiccup never fails a call to OTTO.
    try {
      req.metrics?.ottoCall?.({
        endpoint: ottoEndpoint(path),
        method: req.method,
        status,
        seconds: (performance.now() - startedAt) / 1_000,
      });
    } catch {
      // ignored
    }
  };
  const timeout = AbortSignal.timeout(req.timeoutMs ?? 10_000);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const failed = (err: unknown, what: string): Error => {
    if (req.signal?.aborted) {
      record('cancelled');
      return cancellationError(req.signal);
    }
    record('network_error');
    const cause = err instanceof Error ? err.message : String(err);
    return new OttoNetworkError(`${req.method} ${path} ${what}: ${cause}`);
  };
  let res: HttpAnswer;
  try {
    res = await transport(req.url, {
      method: req.method,
      headers,
      body,
      signal,
      // Never followed: a token request re-posted elsewhere would carry the client secret and the code
      // (fetch and undici keep the body on 307/308), a data call the Bearer token; and a forged answer
      // from another host would be taken for OTTO's. A 3xx is an error answer like any other.
      redirect: 'manual',
    });
  } catch (err) {
    throw failed(err, 'failed');
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw failed(err, 'failed while reading the answer');
  }
  record(String(res.status));
  noticeDeprecation(req, path, res);
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (res.status < 200 || res.status > 299) {
    throw new OttoHttpError(
      req.method,
      path,
      res.status,
      reasonOf(parsed),
      parseRetryAfter(res.header('retry-after'), Date.now()),
      descriptionOf(parsed),
      parseApiErrors(parsed),
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

function descriptionOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>).error_description;
  return typeof value === 'string' ? value.slice(0, 300) : undefined;
}
