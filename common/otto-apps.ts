/**
 * The OTTO apps this deployment owns (otto-api.md §1: a "v2 app" is a separate app with its own
 * credentials and a larger scope set). Read from OTTO_APPS as JSON; client secrets stay in process memory.
 */
import { z } from 'zod';

export const ottoAppSchema = z.object({
  version: z.enum(['v1', 'v2']),
  appId: z.string().min(1),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scopes: z.array(z.string().min(1)).default([]),
  /**
   * A public app's installation link from its OPC app page (otto-api.md §2.1). Absent for a private app:
   * its consent then needs an invitation link, passed when consent is started.
   */
  installationUrl: z.url({ protocol: /^https?$/ }).nullish(),
});
export type OttoApp = z.infer<typeof ottoAppSchema>;

export const ottoAppsSchema = z
  .array(ottoAppSchema)
  .min(1, 'at least one app is needed')
  .refine(
    (apps) => new Set(apps.map((a) => a.version)).size === apps.length,
    'each app version may appear once',
  );

/** For config schemas: OTTO_APPS is a JSON list. */
export const ottoAppsEnvSchema = z.string().transform((text, ctx) => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a JSON list of { version, appId, clientId, clientSecret, scopes, installationUrl? }',
    });
    return z.NEVER;
  }
  const parsed = ottoAppsSchema.safeParse(json);
  if (!parsed.success) {
    // Name the failing field, never the value (it may be a secret).
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: 'custom', message: `${issue.path.join('.')}: ${issue.message}` });
    return z.NEVER;
  }
  return parsed.data;
});

export function findApp(apps: readonly OttoApp[], version: string): OttoApp {
  const app = apps.find((a) => a.version === version);
  if (!app) throw new Error(`no OTTO app configured for version ${version}`);
  return app;
}

export function latestVersion(apps: readonly OttoApp[]): OttoApp['version'] {
  return (
    apps
      .map((a) => a.version)
      .sort()
      .at(-1) ?? 'v1'
  );
}
