import type { z } from 'zod';

/** One problem found in a request body, with where it is (`$[3].quantity`) and what is wrong. */
export interface BodyIssue {
  jsonPath: string;
  message: string;
}

/** `$[3].quantity` style JSON paths, so an error can name the offending item of a batch. */
export function jsonPath(path: readonly PropertyKey[], root = '$'): string {
  let out = root;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

export function zodIssues(error: z.ZodError, root = '$'): BodyIssue[] {
  return error.issues.map((issue) => ({ jsonPath: jsonPath(issue.path, root), message: issue.message }));
}

/** "`$[1].quantity`: Too small…" — how the emulator writes an issue into an error's `detail`. */
export function describeIssue(issue: BodyIssue): string {
  return `${issue.jsonPath}: ${issue.message}`;
}

/** Validates a request body; the issues (never thrown) are for the caller to answer in its API's shape. */
export function validate<T extends z.ZodType>(
  schema: T,
  body: unknown,
): { ok: true; value: z.infer<T> } | { ok: false; issues: BodyIssue[] } {
  const parsed = schema.safeParse(body);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, issues: zodIssues(parsed.error) };
}

/**
 * ISO 8601 date-time with an explicit zone (`Z` or `±hh:mm`), as OTTO's query parameters and bodies take
 * them ("times in any zone"). A local time without zone is refused [I]: OTTO would have to guess it.
 */
const ISO_DATE_TIME =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;

/** Epoch ms of an ISO 8601 date-time with zone, or undefined. */
export function parseIsoDateTime(raw: string): number | undefined {
  if (!ISO_DATE_TIME.test(raw)) return undefined;
  const ms = Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** At most two decimal places (OTTO refuses more for prices). */
export function hasAtMostTwoDecimals(value: number): boolean {
  return Number.isFinite(value) && Number(value.toFixed(2)) === value;
}
