/** Reading the emulator's request log (GET /__admin/requests?since=…). */
import { PartnerRateLimiter } from '../../activities/partner-rate-limiter';
import type { EmulatorProcess } from './emulator-process';
import { sleep } from './report';

export interface LoggedRequest {
  seq: number;
  at: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  partnerId?: string;
  installationId?: string;
  token?: string;
  fault?: string;
}

export async function requestsSince(emulator: EmulatorProcess, sinceMs: number): Promise<LoggedRequest[]> {
  return await emulator.admin<LoggedRequest[]>(
    'GET',
    `/requests?since=${encodeURIComponent(new Date(sinceMs).toISOString())}`,
  );
}

/** Any of OTTO's token endpoints (they share one rate-limit bucket). */
export const isTokenCall = (r: LoggedRequest): boolean =>
  r.method === 'POST' &&
  (/\/accessToken$/.test(r.path) || r.path === '/v1/token' || r.path === '/oauth2/token');

/** The installation an installation-token mint was for, or undefined for any other request. */
export function mintedInstallation(r: LoggedRequest): string | undefined {
  if (r.method !== 'POST') return undefined;
  const m = /\/installations\/([^/]+)\/accessToken$/.exec(r.path);
  return m?.[1] === undefined ? undefined : decodeURIComponent(m[1]);
}

/** Requests per whole epoch second (the emulator's rate-limit windows are the same seconds). */
export function perSecond(requests: readonly LoggedRequest[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of requests) {
    const second = Math.floor(Date.parse(r.at) / 1_000);
    counts.set(second, (counts.get(second) ?? 0) + 1);
  }
  return counts;
}

/**
 * The earliest the last of `n` code exchanges can go out, in ms after `at`, under the worker's own
 * token-endpoint limiter (N per second, H more for code exchanges in URGENT_WINDOW_MS) when the window
 * already held `prior` (send times, ms): what the endpoint's recent traffic leaves a burst. With an empty
 * window it is (⌈n / (N + H)⌉ − 1) × URGENT_WINDOW_MS; a window full of background mints adds up to one
 * more window.
 */
export function burstFloorMs(
  prior: readonly number[],
  at: number,
  n: number,
  limit: { perSecond: number; urgentHeadroom: number },
): number {
  let clock = 0;
  const limiter = new PartnerRateLimiter(limit.perSecond, () => clock, {
    urgentHeadroom: limit.urgentHeadroom,
  });
  for (const sent of prior.filter((s) => s <= at).sort((x, y) => x - y)) {
    clock = sent;
    limiter.tryAcquire('floor', true);
  }
  clock = at;
  for (let i = 0; i < n; i++) {
    for (let wait = limiter.tryAcquire('floor', true); wait > 0; wait = limiter.tryAcquire('floor', true))
      clock += wait;
  }
  return clock - at;
}

/**
 * Waits until OTTO's log shows no token-endpoint request for `quietMs` (the connected sellers' first
 * mints done), polling it; gives up after `timeoutMs` and says so. Returns the wait in ms.
 */
export async function untilTokenEndpointQuiet(
  emulator: EmulatorProcess,
  quietMs: number,
  timeoutMs: number,
): Promise<{ waitedMs: number; quiet: boolean }> {
  const started = Date.now();
  for (;;) {
    const now = Date.now();
    const recent = (await requestsSince(emulator, now - quietMs)).filter(isTokenCall);
    if (recent.length === 0) return { waitedMs: Date.now() - started, quiet: true };
    if (now - started > timeoutMs) return { waitedMs: now - started, quiet: false };
    await sleep(200);
  }
}
