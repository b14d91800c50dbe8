/**
 * Configuration is read once per process, from the environment, through one zod schema per process.
 * Errors name the variable and never echo a value (it may be a secret).
 *
 * Fail closed: dev defaults and relaxations apply only when the process is explicitly in dev
 * (`OTTO_CONNECT_ENV=dev`, set by `npm run dev` and the test harness). Otherwise every secret is
 * required, weak or published keys are refused, and every browser- or OTTO-facing URL must be https.
 * Secrets may also come from files (`<NAME>_FILE`, the Docker-secrets way), read once at start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDurationMs } from './duration';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The switch for dev defaults and relaxations: `dev` (npm run dev, the tests); unset or `production`
 * means production rules; any other value is refused rather than guessed at.
 */
export const DEV_FLAG = 'OTTO_CONNECT_ENV';

export const runEnvSchema = z
  .enum(['dev', 'production'], { error: 'must be dev or production (unset: production)' })
  .default('production');

/** True only when the environment explicitly asks for dev (`OTTO_CONNECT_ENV=dev`). */
export function isDevEnv(env: Record<string, string | undefined>): boolean {
  return env[DEV_FLAG] === 'dev';
}

/** Dev defaults, used only with `OTTO_CONNECT_ENV=dev`: the emulator, the local API, loopback. */
export const DEV_OTTO_BASE_URL = 'http://localhost:3900';
export const DEV_PUBLIC_BASE_URL = 'http://localhost:3000';
export const DEV_HOST = '127.0.0.1';

/** Variables that hold secrets: each may instead be read from the file named by `<NAME>_FILE`. */
export const SECRET_VARIABLES = [
  'API_KEYS',
  'SEAL_KEYS',
  'STATE_SIGNING_KEY',
  'OTTO_APPS',
  'WEBHOOK_SECRET',
] as const;

/**
 * Resolves `<NAME>_FILE` for every secret variable: the file is read once, its trailing newline(s)
 * trimmed, and the value put under `<NAME>` (the `_FILE` entry is dropped, so this is idempotent).
 * Both set, or an unreadable file, is a ConfigError naming the variable (never the value).
 */
export function withSecretFiles(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const fileVar = `${name}_FILE`;
    const path = out[fileVar];
    if (path === undefined) continue;
    delete out[fileVar];
    if (out[name] !== undefined) {
      problems.push(`  ${name}: set either ${name} or ${fileVar}, not both`);
      continue;
    }
    try {
      out[name] = readFileSync(path, 'utf8').replace(/[\r\n]+$/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      problems.push(`  ${fileVar}: cannot read the file for ${name} (${code})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return out;
}

type Ctx = z.core.$RefinementCtx;

function issue(ctx: Ctx, name: string, message: string): void {
  ctx.addIssue({ code: 'custom', path: [name], message });
}

/** A secret that must be present: from the variable, its `_FILE`, or (dev only) a generated default. */
export function requireSecret(ctx: Ctx, name: string, value: unknown): void {
  if (value === undefined)
    issue(ctx, name, `required (set ${name} or ${name}_FILE; only ${DEV_FLAG}=dev has defaults)`);
}

/** A URL that has a dev default only: outside dev it is required. */
export function requireOutsideDev(ctx: Ctx, dev: boolean, name: string, value: unknown): void {
  if (!dev && value === undefined) issue(ctx, name, `required (it has a default only with ${DEV_FLAG}=dev)`);
}

/** Outside dev, a browser- or OTTO-facing URL must be https (a real client secret or code travels on it). */
export function httpsOutsideDev(
  ctx: Ctx,
  dev: boolean,
  name: string,
  value: string | null | undefined,
  field?: string,
): void {
  if (dev || value === undefined || value === null) return;
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    return; // the field's own URL check names it
  }
  if (protocol !== 'https:')
    issue(
      ctx,
      name,
      `${field ? `${field}: ` : ''}must be an https:// URL (http:// only with ${DEV_FLAG}=dev)`,
    );
}

/**
 * Why a text secret (API key, state signing key) is obviously guessable, or undefined when it is not:
 * one repeated character, a short repeated pattern, few distinct characters, or a run like abcd…/1234….
 * Random keys of 32+ characters (hex, base64, base64url) never trip these.
 */
export function textSecretWeakness(text: string): string | undefined {
  const chars = [...text];
  const distinct = new Set(chars).size;
  if (distinct <= 1) return 'is one repeated character';
  for (let period = 2; period <= chars.length / 2; period++) {
    if (chars.every((ch, i) => ch === chars[i % period])) return 'repeats a short pattern';
  }
  if (distinct < 8) return 'uses fewer than 8 distinct characters';
  // Characters inside runs of at least 4 that step by +1 or by -1 throughout (abcd, 4321). Random keys
  // almost never hold one such run, let alone runs covering half the key; equal or merely close
  // neighbours (random hex has many) do not count.
  let covered = 0;
  let runLength = 1;
  let runStep = 0;
  const closeRun = () => {
    if (runLength >= 4) covered += runLength;
  };
  for (let i = 1; i < chars.length; i++) {
    const step = chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!;
    if ((step === 1 || step === -1) && (runLength === 1 || step === runStep)) {
      runStep = step;
      runLength++;
    } else {
      closeRun();
      runStep = step === 1 || step === -1 ? step : 0;
      runLength = runStep === 0 ? 1 : 2;
    }
  }
  closeRun();
  if (covered * 2 >= chars.length) return 'is mostly a run of neighbouring characters (like abcd or 1234)';
  return undefined;
}

/** Why a binary key (a seal key's 32 bytes) is obviously not random, or undefined. */
export function keyBytesWeakness(key: Uint8Array): string | undefined {
  const distinct = new Set(key).size;
  if (key.every((b) => b === 0)) return 'is all zero bytes';
  if (distinct <= 1) return 'is one repeated byte';
  if (distinct < 8) return 'has fewer than 8 distinct bytes';
  return undefined;
}

/** A duration variable ("15m", "24h", "250ms", plain ms). */
export function durationMs(defaultText: string) {
  return z
    .string()
    .default(defaultText)
    .transform((text, ctx) => {
      const ms = parseDurationMs(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 90s, 15m, 24h or 1h30m' });
        return z.NEVER;
      }
      return ms;
    });
}

export const temporalConfigSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_URL: z.url().default('http://localhost:8233'),
  TASK_QUEUE: z.string().min(1).default('otto-connect'),
});

/** Reads a `.env` file into an object without touching process.env (dev convenience). */
export function readDotEnv(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const out: Record<string, string> = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = line
      .slice(eq + 1)
      .trim()
      .replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

/** Parses `env` (after resolving `<NAME>_FILE` secrets) with `schema`; a ConfigError names every bad variable. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const result = schema.safeParse(withSecretFiles(env));
  if (result.success) return result.data;
  const lines = result.error.issues.map(
    (issue) => `  ${issue.path.join('.') || '(config)'}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
