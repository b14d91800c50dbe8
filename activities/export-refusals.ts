/**
 * Which SKUs of an export batch OTTO refused, and in OTTO's words why. Pure, so the rules are unit-tested.
 *
 * Stock (207): OTTO lists the taken entries in `results` and the refusals in `errors`, whose `path` or
 * `detail` names the entry only informally (docs/otto-api.md §5.2 documents no format). We attribute an error
 * to a SKU when the SKU appears in its path/detail/title, else to the entry at the first array index in
 * its path. A SKU counts as refused when an error names it or when `results` exists and does not list it.
 * When nothing can be told apart (errors naming no entry, or a 207 with neither results nor errors), the
 * whole batch counts as refused: sending a stock level again is harmless, losing one is not.
 *
 * Prices: the update task's `failed` list names each variation (its SKU) with its errors (§5.3).
 */
import { describeApiErrors, parseApiErrors, type OttoApiError } from './otto-http';

/** SKU → OTTO's error text. */
export type Refusals = Map<string, string>;

const SKU_CHAR = /[A-Za-z0-9]/;

/** The batch SKU an error is about, if it can be told. */
export function attributeError(error: OttoApiError, batchSkus: readonly string[]): string | undefined {
  const texts = [error.path, error.detail, error.title].filter((t): t is string => !!t);
  let best: string | undefined;
  for (const sku of batchSkus) {
    if (best !== undefined && sku.length <= best.length) continue;
    if (texts.some((t) => containsToken(t, sku))) best = sku;
  }
  if (best !== undefined) return best;
  const index = error.path?.match(/(?:^|[/[.])(\d+)(?=$|[\]/.])/)?.[1];
  if (index !== undefined && Number(index) < batchSkus.length) return batchSkus[Number(index)];
  return undefined;
}

function containsToken(text: string, token: string): boolean {
  if (!token) return false;
  for (let at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + 1)) {
    const before = text[at - 1];
    const after = text[at + token.length];
    const edge = (c: string | undefined, t: string | undefined) =>
      c === undefined || t === undefined || !SKU_CHAR.test(c) || !SKU_CHAR.test(t);
    if (edge(before, token[0]) && edge(after, token[token.length - 1])) return true;
  }
  return false;
}

/**
 * The errors of an answer about a batch, split into those that name one of its SKUs (joined per SKU) and
 * those that name none.
 */
export function entryRefusals(
  batchSkus: readonly string[],
  errors: readonly OttoApiError[],
): { named: Refusals; unnamed: OttoApiError[] } {
  const named: Refusals = new Map();
  const unnamed: OttoApiError[] = [];
  for (const error of errors) {
    const sku = attributeError(error, batchSkus);
    if (sku === undefined) unnamed.push(error);
    else named.set(sku, join(named.get(sku), describeApiErrors([error]) ?? 'refused'));
  }
  return { named, unnamed };
}

/**
 * A 207 (OTTO took some entries, not all): the named SKUs, plus every SKU `results` does not list; with
 * no `results`, every SKU when an error names none, or when there are no errors at all (a 207 says
 * something failed, and nothing says what).
 */
export function stockRefusals(
  batchSkus: readonly string[],
  takenSkus: readonly string[] | undefined,
  errors: readonly OttoApiError[],
): Refusals {
  const { named: refused, unnamed: unattributed } = entryRefusals(batchSkus, errors);
  const silent = takenSkus === undefined && errors.length === 0;
  const fallback =
    describeApiErrors(unattributed) ??
    (silent
      ? 'OTTO answered 207 (partly refused) without naming what it took or refused'
      : 'not among the entries OTTO took');
  const taken = takenSkus ? new Set(takenSkus) : undefined;
  for (const sku of batchSkus) {
    if (refused.has(sku)) continue;
    if (taken ? !taken.has(sku) : unattributed.length > 0 || silent) refused.set(sku, fallback);
  }
  return refused;
}

/** From GET …/update-tasks/{id}/failed (`variation` read as the SKU), limited to the batch sent. */
export function priceRefusals(
  batchSkus: readonly string[],
  failed: ReadonlyArray<{ sku?: string | null; errors?: unknown }>,
): Refusals {
  const inBatch = new Set(batchSkus);
  const refused: Refusals = new Map();
  for (const entry of failed) {
    const sku = entry.sku;
    if (!sku || !inBatch.has(sku)) continue;
    const text = describeApiErrors(parseApiErrors({ errors: entry.errors })) ?? 'refused by OTTO';
    refused.set(sku, join(refused.get(sku), text));
  }
  return refused;
}

function join(a: string | undefined, b: string): string {
  return (a ? `${a}; ${b}` : b).slice(0, 1_000);
}

/** "2 SKU(s) refused by OTTO, …: A (why), B (why)" naming the `sample`; '' for none. */
export function describeRefusals(
  total: number,
  sample: ReadonlyArray<{ sku: string; error: string }>,
): string {
  if (total === 0) return '';
  const named = sample.map((r) => `${r.sku} (${r.error.slice(0, 120)})`).join(', ');
  const more = total > sample.length ? `, … ${total - sample.length} more` : '';
  return `${total} SKU(s) refused by OTTO, sent again next run: ${named}${more}`;
}
