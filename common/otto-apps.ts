/**
 * The OTTO apps this deployment owns (docs/otto-api.md §1: a "v2 app" is a separate app with its own
 * credentials and a larger scope set). Read from OTTO_APPS as JSON; client secrets stay in the worker's
 * memory only (the API parses the list without them).
 */
import { z } from 'zod';

export const ottoAppSchema = z.object({
  version: z.enum(['v1', 'v2']),
  appId: z.string().min(1),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scopes: z.array(z.string().min(1)).default([]),
  /**
   * A public app's installation link from its OPC app page (docs/otto-api.md §2.1). Absent for a private app:
   * its consent then needs an invitation link, passed when consent is started.
   */
  installationUrl: z.url({ protocol: /^https?$/ }).nullish(),
});
export type OttoApp = z.infer<typeof ottoAppSchema>;

/**
 * An app as the API sees it: the API only builds /oauth2/auth URLs and never exchanges codes, so it
 * needs the client id, never the secret. Parsing drops a `clientSecret` it is given (zod strips unknown
 * keys), so the secret never lives in the API's memory beyond the raw environment text.
 */
export const publicOttoAppSchema = ottoAppSchema.omit({ clientSecret: true });
export type PublicOttoApp = z.infer<typeof publicOttoAppSchema>;

function appListSchema<A extends { version: string }>(app: z.ZodType<A>) {
  return z
    .array(app)
    .min(1, 'at least one app is needed')
    .refine(
      (apps) => new Set(apps.map((a) => a.version)).size === apps.length,
      'each app version may appear once',
    );
}

export const ottoAppsSchema = appListSchema(ottoAppSchema);

function appsEnvSchema<A extends { version: string }>(app: z.ZodType<A>, shape: string) {
  const list = appListSchema(app);
  return z.string().transform((text, ctx): A[] => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a JSON list of ${shape}` });
      return z.NEVER;
    }
    const parsed = list.safeParse(json);
    if (!parsed.success) {
      // Name the failing field, never the value (it may be a secret).
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', message: `${issue.path.join('.')}: ${issue.message}` });
      return z.NEVER;
    }
    return parsed.data;
  });
}

/** For the worker's config: OTTO_APPS is a JSON list, client secrets included. */
export const ottoAppsEnvSchema = appsEnvSchema(
  ottoAppSchema,
  '{ version, appId, clientId, clientSecret, scopes, installationUrl? }',
);

/** For the API's config: the same list; `clientSecret` may be absent and is dropped when present. */
export const publicOttoAppsEnvSchema = appsEnvSchema(
  publicOttoAppSchema,
  '{ version, appId, clientId, scopes, installationUrl? } (clientSecret is not needed here)',
);

export function findApp<A extends { version: string }>(apps: readonly A[], version: string): A {
  const app = apps.find((a) => a.version === version);
  if (!app) throw new Error(`no OTTO app configured for version ${version}`);
  return app;
}

export function latestVersion(apps: readonly Pick<OttoApp, 'version'>[]): OttoApp['version'] {
  return (
    apps
      .map((a) => a.version)
      .sort()
      .at(-1) ?? 'v1'
  );
}
