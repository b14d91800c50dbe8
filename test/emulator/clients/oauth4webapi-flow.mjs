// An independent, standard OAuth client (oauth4webapi, ESM-only, hence a child process) runs the
// connector's second step against the emulator: discovery from the issuer (the Keycloak realm), the
// authorization-code flow with PKCE through the real /oauth2/auth login page (plain HTML form posts), a
// refresh, and the installation lookup as a protected resource. The app must already be installed.
// Prints one JSON line with what it obtained (no token values).
import * as oauth from 'oauth4webapi';

const [, , baseUrl, appId, clientId, clientSecret, redirectUri, username, password] = process.argv;

const insecure = { [oauth.allowInsecureRequests]: true };
const issuer = new URL(`${baseUrl}/sec-api/auth/realms/otto-partner`);
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
const client = { client_id: clientId };
const clientAuth = oauth.ClientSecretPost(clientSecret);

function formOf(html, id) {
  const match = new RegExp(`<form id="${id}"[^>]*action="([^"]+)"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  if (!match) throw new Error(`the page has no form "${id}"`);
  const fields = {};
  for (const m of match[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[m[1]] = m[2];
  return { action: match[1].replace(/&amp;/g, '&'), fields };
}

async function post(url, fields) {
  return await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

const codeVerifier = oauth.generateRandomCodeVerifier();
const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
const state = oauth.generateRandomState();
const authorizationUrl = new URL(as.authorization_endpoint);
for (const [k, v] of Object.entries({
  client_id: clientId,
  redirect_uri: redirectUri,
  response_type: 'code',
  scope: 'installation partnerId',
  state,
  code_challenge: codeChallenge,
  code_challenge_method: 'S256',
})) {
  authorizationUrl.searchParams.set(k, v);
}

const login = formOf(await (await fetch(authorizationUrl)).text(), 'login');
const loggedIn = await post(login.action, { ...login.fields, username, password });
const callbackUrl = new URL(loggedIn.headers.get('location'));

const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
const exchange = () =>
  oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, codeVerifier, insecure);
const result = await oauth.processAuthorizationCodeResponse(as, client, await exchange());

const refreshed = await oauth.processRefreshTokenResponse(
  as,
  client,
  await oauth.refreshTokenGrantRequest(as, client, clientAuth, result.refresh_token, insecure),
);

const lookup = await oauth.protectedResourceRequest(
  refreshed.access_token,
  'GET',
  new URL(`${baseUrl}/v1/apps/${appId}/installation`),
  undefined,
  undefined,
  insecure,
);
const installation = lookup.ok ? await lookup.json() : {};

// A replayed code must be refused by the server (single use).
let replayError = null;
try {
  await oauth.processAuthorizationCodeResponse(as, client, await exchange());
} catch (err) {
  replayError = err?.error ?? err?.cause?.error ?? err?.code ?? String(err);
}

console.log(
  JSON.stringify({
    issuer: as.issuer,
    iss: callbackUrl.searchParams.get('iss'),
    tokenType: result.token_type,
    scope: result.scope,
    expiresIn: result.expires_in,
    hasAccessToken: typeof result.access_token === 'string' && result.access_token.length > 0,
    refreshedScope: refreshed.scope,
    installationStatus: lookup.status,
    installationKeys: Object.keys(installation),
    replayError,
  }),
);
