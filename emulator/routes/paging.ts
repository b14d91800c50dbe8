/**
 * Parses an integer query value (`limit`, `page`); a string result is the 400 message: OTTO refuses
 * out-of-range values, it does not clamp them [I].
 */
export function parseIntParam(
  raw: string | undefined,
  spec: { name: string; defaultValue: number; min: number; max?: number },
): number | string {
  const { name, defaultValue, min, max } = spec;
  const range = max === undefined ? `>= ${min}` : `between ${min} and ${max}`;
  if (raw === undefined) return defaultValue;
  if (!/^\d+$/.test(raw)) return `${name} must be an integer ${range}, was "${raw}"`;
  const value = Number(raw);
  if (value < min || (max !== undefined && value > max)) return `${name} must be ${range}, was ${value}`;
  return value;
}

export function parseLimit(raw: string | undefined, defaultLimit: number, maxLimit: number): number | string {
  return parseIntParam(raw, { name: 'limit', defaultValue: defaultLimit, min: 1, max: maxLimit });
}

/** All values of a repeatable query parameter (`?a=1&a=2`), in order. */
export function queryValues(query: unknown, name: string): string[] {
  const value = (query as Record<string, unknown>)[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
