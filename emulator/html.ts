/**
 * The OPC pages are real HTML forms a browser (or a test posting forms) can drive. Every value that came
 * from a request is escaped here, because the authorize URL is attacker-controlled.
 */

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><title>${escapeHtml(title)} – OTTO Partner Connect (emulator)</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}
.error{color:#b00}label{display:block;margin:.5rem 0}</style></head>
<body><header><strong>OTTO Partner Connect</strong> <small>(emulator)</small></header>
<main>
${body}
</main></body></html>
`;
}

export function loginPage(input: {
  action: string;
  session: string;
  /** What the login is for, shown above the form. */
  intro: string;
  error?: string;
  username?: string;
  /** Adds a Cancel button (the /oauth2/auth login form). */
  cancel?: boolean;
}): string {
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : '';
  const cancel = input.cancel
    ? '\n<button type="submit" name="cancel" value="cancel" formnovalidate>Abbrechen</button>'
    : '';
  return page(
    'Login',
    `<h1>Login</h1>
<p id="intro">${escapeHtml(input.intro)}</p>
${error}<form id="login" method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="session" value="${escapeHtml(input.session)}">
<label>Benutzername <input type="text" name="username" value="${escapeHtml(input.username ?? '')}" autocomplete="username" required></label>
<label>Passwort <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit" name="login" value="login">Anmelden</button>${cancel}
</form>`,
  );
}

/** The OPC consent screen: every scope of the app, all or nothing. */
export function consentPage(input: {
  action: string;
  session: string;
  appName: string;
  partnerId: string;
  username: string;
  scopes: string[];
}): string {
  const scopes = input.scopes.map((s) => `<li class="scope">${escapeHtml(s)}</li>`).join('\n');
  return page(
    'App installieren',
    `<h1>App installieren</h1>
<p>Angemeldet als <strong>${escapeHtml(input.username)}</strong> (Partner ${escapeHtml(input.partnerId)}).</p>
<p>Die App <strong>${escapeHtml(input.appName)}</strong> erhält Zugriff auf:</p>
<ul id="scopes">
${scopes}
</ul>
<form id="consent" method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="session" value="${escapeHtml(input.session)}">
<button type="submit" name="decision" value="confirm">Confirm</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>`,
  );
}

/** A user without the rights to install apps: no link anywhere, OPC just says no. */
export function refusalPage(input: { message: string }): string {
  return page(
    'Zugriff verweigert',
    `<h1>Zugriff verweigert</h1>
<p class="error" id="refusal">${escapeHtml(input.message)}</p>
<p>Apps installieren dürfen nur Benutzer mit Admin-Rechten und der Berechtigung „Dienstleister Freigaben“.</p>`,
  );
}

export function alreadyInstalledPage(input: {
  appName: string;
  partnerId: string;
  continueUrl: string;
}): string {
  return page(
    'Bereits installiert',
    `<h1>Bereits installiert</h1>
<p id="already-installed">Die App <strong>${escapeHtml(input.appName)}</strong> ist für Partner ${escapeHtml(input.partnerId)} already installed.</p>
<p><a id="continue" href="${escapeHtml(input.continueUrl)}">Weiter zur App</a></p>`,
  );
}

export function cancelledPage(input: { appName: string }): string {
  return page(
    'Installation abgebrochen',
    `<h1>Installation abgebrochen</h1>
<p id="cancelled">Installation cancelled: die App <strong>${escapeHtml(input.appName)}</strong> wurde nicht installiert.</p>`,
  );
}

/** Nothing to go back to: the request could not be tied to a registered app (or the link is dead). */
export function errorPage(input: { title: string; message: string }): string {
  return page(
    input.title,
    `<h1>${escapeHtml(input.title)}</h1>
<p class="error" id="error">${escapeHtml(input.message)}</p>
<p>Sie werden nicht zur App zurückgeleitet.</p>`,
  );
}
