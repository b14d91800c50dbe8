/**
 * WEBHOOK_SECRET: one or more Standard Webhooks signing secrets (`whsec_<base64 of 24–64 random bytes>`),
 * separated by spaces or commas. Every delivery is signed with each of them: the `webhook-signature`
 * header lists one `v1,<signature>` per secret, space-separated, and a Standard Webhooks verifier accepts
 * the delivery when any of them matches its secret. So a secret is rotated without a delivery failing:
 * add the new one, switch the shop's verifier over, remove the old one.
 */
const FORMAT = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const MIN_BYTES = 24;
const MAX_BYTES = 64;
/** More is a configuration mistake (a rotation needs two); each costs an HMAC per delivery. */
export const MAX_WEBHOOK_SECRETS = 4;

/** The secrets in the order given (the first is the current one); none for an empty value. */
export function webhookSecrets(value: string): string[] {
  return value.split(/[\s,]+/).filter((s) => s !== '');
}

/** What is wrong with the value, naming the secret by its position only (never its text); null when fine. */
export function webhookSecretsProblem(value: string): string | null {
  const secrets = webhookSecrets(value);
  if (secrets.length === 0) return 'holds no secret';
  if (secrets.length > MAX_WEBHOOK_SECRETS)
    return `holds ${secrets.length} secrets; at most ${MAX_WEBHOOK_SECRETS} (the new and the old one while rotating)`;
  if (new Set(secrets).size !== secrets.length) return 'names the same secret twice';
  for (const [i, secret] of secrets.entries()) {
    const which = secrets.length === 1 ? '' : `secret ${i + 1} of ${secrets.length} `;
    if (!FORMAT.test(secret)) return `${which}must be whsec_<base64> (the Standard Webhooks format)`;
    const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
    if (bytes < MIN_BYTES || bytes > MAX_BYTES)
      return `${which}must hold ${MIN_BYTES}–${MAX_BYTES} random bytes (Standard Webhooks); it holds ${bytes}`;
  }
  return null;
}
