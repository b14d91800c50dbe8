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
  appName: string;
  error?: string;
  username?: string;
}): string {
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : '';
  return page(
    'Login',
    `<h1>Login</h1>
<p>Die App <strong>${escapeHtml(input.appName)}</strong> möchte auf Ihr Partnerkonto zugreifen. Bitte melden Sie sich an.</p>
${error}<form id="login" method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="session" value="${escapeHtml(input.session)}">
<label>Benutzername <input type="text" name="username" value="${escapeHtml(input.username ?? '')}" autocomplete="username" required></label>
<label>Passwort <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit" name="login" value="login">Anmelden</button>
</form>`,
  );
}

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
    'Consent',
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

export function refusalPage(input: { message: string; continueUrl: string }): string {
  return page(
    'Zugriff verweigert',
    `<h1>Zugriff verweigert</h1>
<p class="error" id="refusal">${escapeHtml(input.message)}</p>
<p>Apps installieren dürfen nur Benutzer mit Admin-Rechten und der Berechtigung „Dienstleister Freigaben“.</p>
<p><a id="continue" href="${escapeHtml(input.continueUrl)}">Zurück zur App</a></p>`,
  );
}

export function errorPage(input: { title: string; message: string }): string {
  return page(
    input.title,
    `<h1>${escapeHtml(input.title)}</h1>
<p class="error" id="error">${escapeHtml(input.message)}</p>
<p>Sie werden nicht zur App zurückgeleitet, weil die Anfrage nicht eindeutig einer registrierten App zugeordnet werden kann.</p>`,
  );
}
