import type { Router, Response } from 'express';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { logref, sendApiError } from '../http-errors';
import { uuid } from '../ids';
import { catalogue, sellerData } from '../seller-data';
import type { Money, PartnerData, Price, PriceTask, PriceTaskError, PriceTaskOutcome, Sale } from '../state';
import { hasAtMostTwoDecimals, parseIsoDateTime } from '../validation';
import { exactRouter } from './exact-router';

export const PRICES_MAX_BATCH = 500;
const PRICES_PATH = '/v5/products/prices';
const TASKS_PATH = '/v5/products/update-tasks';
const OUTCOMES: PriceTaskOutcome[] = ['failed', 'succeeded', 'unchanged'];

/**
 * Prices v5 (scope `products`): OTTO's asynchronous product update tasks. POST checks only that the body
 * is an array of 1–500 entries (else 400 with the generic body: [I] the API documents no 4xx) and
 * answers 202 with a `pending` progress object. Each entry is validated when the task settles, after
 * `priceProcessingDelayMs` on the injectable clock: invalid entries (unknown SKU, currency other than
 * EUR, amount ≤ 0 or with more than 2 decimals, …) count as `failed`, entries equal to the current price
 * as `unchanged`, the rest `succeeded` — and only then do the prices apply.
 */
export function pricesRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();
  const guard = requireInstallationToken(ctx, 'prices');

  router.post(PRICES_PATH, guard, (req, res) => {
    const body: unknown = req.body;
    if (!Array.isArray(body)) {
      sendApiError(res, 400, 'Bad Request', 'The body must be a JSON array of product variation prices');
      return;
    }
    if (body.length === 0 || body.length > PRICES_MAX_BATCH) {
      sendApiError(
        res,
        400,
        'Bad Request',
        `Between 1 and ${PRICES_MAX_BATCH} prices per request are allowed, got ${body.length}`,
      );
      return;
    }
    const { partnerId } = caller(res);
    const data = sellerData(ctx, partnerId);
    settlePriceTasks(ctx, partnerId);
    const task: PriceTask = {
      processUuid: uuid(),
      createdAt: ctx.nowIso(),
      readyAtMs: ctx.now() + ctx.options.priceProcessingDelayMs,
      total: body.length,
      items: structuredClone(body) as unknown[],
    };
    data.priceTasks.push(task);
    ctx.persist();
    res.status(202).json(progressView(task));
  });

  router.get(`${TASKS_PATH}/:processUuid`, guard, (req, res) => {
    const task = findTask(ctx, res, String(req.params.processUuid));
    if (task) res.json(progressView(task));
  });

  for (const outcome of OUTCOMES) {
    router.get(`${TASKS_PATH}/:processUuid/${outcome}`, guard, (req, res) => {
      const task = findTask(ctx, res, String(req.params.processUuid));
      if (!task) return;
      res.json({
        results: (task.results ?? [])
          .filter((r) => r.outcome === outcome)
          .map((r) => ({ variation: r.variation, errors: r.errors })),
      });
    });
  }

  return router;
}

function findTask(ctx: EmulatorContext, res: Response, processUuid: string): PriceTask | undefined {
  const { partnerId } = caller(res);
  settlePriceTasks(ctx, partnerId);
  const task = sellerData(ctx, partnerId).priceTasks.find((t) => t.processUuid === processUuid);
  // [I] Undocumented: an unknown (or another partner's) task is a 404 with the generic body.
  if (!task) sendApiError(res, 404, 'Not Found', `No update task ${processUuid}`);
  return task;
}

/** ProductProcessProgress; no processUuid field (it is the last segment of the `self` link). */
function progressView(task: PriceTask) {
  const done = task.doneAt !== undefined;
  const count = (o: PriceTaskOutcome) => (task.results ?? []).filter((r) => r.outcome === o).length;
  const base = `${TASKS_PATH}/${task.processUuid}`;
  return {
    state: done ? 'done' : 'pending',
    message: done ? 'The process has been completed.' : 'The process is still running.',
    total: task.total,
    progress: done ? task.total : 0,
    succeeded: count('succeeded'),
    failed: count('failed'),
    unchanged: count('unchanged'),
    ...(done ? {} : { pingAfter: new Date(task.readyAtMs).toISOString() }),
    links: [
      { rel: 'self', href: base },
      { rel: 'failed', href: `${base}/failed` },
      { rel: 'succeeded', href: `${base}/succeeded` },
      { rel: 'unchanged', href: `${base}/unchanged` },
    ],
  };
}

/** Settles every due task of the partner, oldest first (a later task sees the prices of earlier ones). */
export function settlePriceTasks(ctx: EmulatorContext, partnerId: string): void {
  const data = sellerData(ctx, partnerId);
  const now = ctx.now();
  let changed = false;
  for (const task of data.priceTasks) {
    if (task.doneAt !== undefined || task.readyAtMs > now) continue;
    settle(ctx, data, task);
    changed = true;
  }
  if (changed) ctx.persist();
}

function settle(ctx: EmulatorContext, data: PartnerData, task: PriceTask): void {
  const known = catalogue(data);
  const now = ctx.nowIso();
  task.results = (task.items ?? []).map((raw) => {
    const sku = isRecord(raw) && typeof raw.sku === 'string' ? raw.sku : '';
    const checked = checkItem(raw, known);
    if ('errors' in checked) return { variation: sku, outcome: 'failed' as const, errors: checked.errors };
    const current = data.prices.find((p) => p.sku === checked.sku);
    if (current && samePrice(current, checked))
      return { variation: sku, outcome: 'unchanged' as const, errors: [] };
    const stored: Price = { ...checked, lastModified: now, processUuid: task.processUuid };
    if (current) data.prices[data.prices.indexOf(current)] = stored;
    else data.prices.push(stored);
    return { variation: sku, outcome: 'succeeded' as const, errors: [] };
  });
  delete task.items;
  task.doneAt = now;
}

interface ValidPrice {
  sku: string;
  standardPrice: Money;
  sale?: Sale;
}

function checkItem(raw: unknown, known: Set<string>): ValidPrice | { errors: PriceTaskError[] } {
  const errors: PriceTaskError[] = [];
  const fail = (code: string, title: string, jsonPath: string) =>
    errors.push({ code, title, path: PRICES_PATH, jsonPath, logref: logref() });
  if (!isRecord(raw)) {
    fail('INVALID_VARIATION', 'A price entry must be a JSON object', '$');
    return { errors };
  }
  if (typeof raw.sku !== 'string' || raw.sku === '') fail('MISSING_SKU', 'sku is missing', '$.sku');
  else if (!known.has(raw.sku)) fail('UNKNOWN_SKU', `SKU "${raw.sku}" is unknown to the partner`, '$.sku');
  const standardPrice = checkMoney(raw.standardPrice, '$.standardPrice', fail, true);
  let sale: Sale | undefined;
  if (raw.sale !== undefined) {
    if (!isRecord(raw.sale)) fail('INVALID_SALE', 'sale must be an object', '$.sale');
    else {
      sale = {};
      if (raw.sale.salePrice !== undefined) {
        const salePrice = checkMoney(raw.sale.salePrice, '$.sale.salePrice', fail, false);
        if (salePrice) sale.salePrice = salePrice;
      }
      for (const key of ['startDate', 'endDate'] as const) {
        const value = raw.sale[key];
        if (value === undefined) continue;
        if (typeof value !== 'string' || parseIsoDateTime(value) === undefined)
          fail('INVALID_DATE', `${key} must be an ISO 8601 date-time`, `$.sale.${key}`);
        else sale[key] = value;
      }
      if (sale.startDate && sale.endDate && Date.parse(sale.startDate) >= Date.parse(sale.endDate))
        fail('INVALID_DATE', 'startDate must be before endDate', '$.sale.endDate');
    }
  }
  if (errors.length > 0 || !standardPrice) return { errors };
  return { sku: raw.sku as string, standardPrice, ...(sale ? { sale } : {}) };
}

function checkMoney(
  raw: unknown,
  at: string,
  fail: (code: string, title: string, jsonPath: string) => void,
  required: boolean,
): Money | undefined {
  if (raw === undefined && !required) return undefined;
  if (!isRecord(raw)) {
    fail('MISSING_PRICE', `${at.slice(2)} is missing`, at);
    return undefined;
  }
  let ok = true;
  if (typeof raw.amount !== 'number' || !Number.isFinite(raw.amount)) {
    fail('INVALID_AMOUNT', 'amount must be a number', `${at}.amount`);
    ok = false;
  } else if (raw.amount <= 0) {
    fail('INVALID_AMOUNT', 'amount must be greater than 0', `${at}.amount`);
    ok = false;
  } else if (!hasAtMostTwoDecimals(raw.amount)) {
    fail('INVALID_AMOUNT', 'amount must have at most 2 decimal places', `${at}.amount`);
    ok = false;
  }
  if (raw.currency !== 'EUR') {
    fail('INVALID_CURRENCY', 'currency must be "EUR"', `${at}.currency`);
    ok = false;
  }
  return ok ? { amount: raw.amount as number, currency: 'EUR' } : undefined;
}

function samePrice(current: Price, next: ValidPrice): boolean {
  return (
    current.standardPrice.amount === next.standardPrice.amount &&
    current.standardPrice.currency === next.standardPrice.currency &&
    JSON.stringify(current.sale ?? null) === JSON.stringify(next.sale ?? null)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
