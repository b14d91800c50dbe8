// An independent, standard OAuth client (oauth4webapi, ESM-only, hence a child process) completes the
// authorization-code flow with PKCE against the emulator, driving its real login and consent pages with
// plain HTML form posts. Prints one JSON line with what it obtained (no token values).
import * as oauth from 'oauth4webapi';

const [, , baseUrl, clientId, clientSecret, redirectUri, username, password] = process.argv;

const as = {
  issuer: baseUrl,
  authorization_endpoint: `${baseUrl}/oauth2/auth`,
  token_endpoint: `${baseUrl}/oauth2/token`,
  authorization_response_iss_parameter_supported: true,
  code_challenge_methods_supported: ['S256'],
};
const client = { client_id: clientId };
const clientAuth = oauth.ClientSecretPost(clientSecret);
const insecure = { [oauth.allowInsecureRequests]: true };

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
const consentPage = await post(login.action, { ...login.fields, username, password });
const consent = formOf(await consentPage.text(), 'consent');
const confirmed = await post(consent.action, { ...consent.fields, decision: 'confirm' });
const callbackUrl = new URL(confirmed.headers.get('location'));

const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
const response = await oauth.authorizationCodeGrantRequest(
  as,
  client,
  clientAuth,
  params,
  redirectUri,
  codeVerifier,
  insecure,
);
const result = await oauth.processAuthorizationCodeResponse(as, client, response);

// A replayed code must be refused by the server (single use).
const replay = await oauth.authorizationCodeGrantRequest(
  as,
  client,
  clientAuth,
  params,
  redirectUri,
  codeVerifier,
  insecure,
);
let replayError = null;
try {
  await oauth.processAuthorizationCodeResponse(as, client, replay);
} catch (err) {
  replayError = err?.error ?? err?.cause?.error ?? err?.code ?? String(err);
}

console.log(
  JSON.stringify({
    iss: callbackUrl.searchParams.get('iss'),
    tokenType: result.token_type,
    scope: result.scope,
    expiresIn: result.expires_in,
    hasAccessToken: typeof result.access_token === 'string' && result.access_token.length > 0,
    replayError,
  }),
);
