/**
 * TRANSFER_INTERVALS: `kind=duration|off` pairs, e.g. `ordersImport=15m,pricesExport=24h,returnsImport=off`.
 * Kinds not named keep their defaults (docs/otto-api.md §6).
 */
import { z } from 'zod';
import { TRANSFER_KINDS, type TransferKind } from './workflow-names';
import { parseDurationMs } from './duration';

export const DEFAULT_TRANSFER_INTERVALS =
  'ordersImport=15m,stockExport=15m,pricesExport=24h,returnsImport=1h,shippingProfilesSync=1h';

export type TransferIntervals = Record<TransferKind, number | null>;

export function parseTransferIntervals(text: string): {
  intervals: Partial<TransferIntervals>;
  errors: string[];
} {
  const intervals: Partial<TransferIntervals> = {};
  const errors: string[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [kind, value] = part.split('=').map((x) => x.trim());
    if (!kind || value === undefined || !(TRANSFER_KINDS as readonly string[]).includes(kind)) {
      errors.push(`"${part}": expected kind=duration|off with kind one of ${TRANSFER_KINDS.join(', ')}`);
      continue;
    }
    if (value === 'off') {
      intervals[kind as TransferKind] = null;
      continue;
    }
    const ms = parseDurationMs(value);
    if (ms === undefined || ms < 100)
      errors.push(`"${part}": ${value} is not a duration such as 15m, 1h or 24h`);
    else intervals[kind as TransferKind] = ms;
  }
  return { intervals, errors };
}

export const transferIntervalsEnvSchema = z
  .string()
  .default(DEFAULT_TRANSFER_INTERVALS)
  .transform((text, ctx) => {
    const { intervals, errors } = parseTransferIntervals(text);
    for (const message of errors) ctx.addIssue({ code: 'custom', message });
    return errors.length > 0 ? z.NEVER : intervals;
  });
