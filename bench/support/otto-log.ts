/** Reading the emulator's request log (GET /__admin/requests?since=…). */
import type { EmulatorProcess } from './emulator-process';

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
