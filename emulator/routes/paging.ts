/** Parses a `limit` query value; a string result is the 400 message (OTTO refuses, it does not clamp). */
export function parseLimit(raw: string | undefined, defaultLimit: number, maxLimit: number): number | string {
  if (raw === undefined || raw === '') return defaultLimit;
  if (!/^\d+$/.test(raw)) return `limit must be an integer between 1 and ${maxLimit}`;
  const value = Number(raw);
  if (value < 1 || value > maxLimit) return `limit must be between 1 and ${maxLimit}, was ${value}`;
  return value;
}
