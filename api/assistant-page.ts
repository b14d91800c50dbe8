/**
 * The seller's "Base settings – OTTO Market" assistant (the seed's flow): step "Allow access to OTTO",
 * then "Summary" and "Finalise". Rendered on the server from the status summary (the workflow's memo, no
 * worker round trip); no front-end build.
 */
import type { AppVersion } from '../workflows/definitions';
import { FORM_TOKEN_FIELD } from './assistant-session';
import { html, page, type SafeHtml } from './html';
import type { StatusSummaryView } from './seller-connections';

export const ASSISTANT_TITLE = 'Base settings – OTTO Market';

export interface AssistantView {
  /** The seller of the browser's assistant session (never a query or form value). */
  sellerId: string;
  /** The session's form token: a hidden field of every "Allow access" form (api/assistant-session.ts). */
  formToken: string;
  /** Null when the seller never connected. */
  status: StatusSummaryView | null;
  latestAppVersion: AppVersion;
}

/**
 * Which rights OTTO said the user lacked. OTTO does not document this refusal (docs/otto-api.md §2.3 [I]);
 * we read the emulator's wording ("missing admin rights and the permission …") from the description
 * OTTO sent, and fall back to naming both rights when it says nothing specific.
 */
export function missingRights(lastError: string): string[] {
  const said = /OTTO said: "([\s\S]*)"/.exec(lastError)?.[1] ?? '';
  const missing = /missing ([^.]*)/i.exec(said)?.[1] ?? '';
  const rights: string[] = [];
  if (/admin rights/i.test(missing)) rights.push('admin rights');
  if (/Dienstleister Freigaben/i.test(missing)) rights.push('the permission “Dienstleister Freigaben”');
  return rights;
}

/**
 * "Allow access" for the session's seller. The seller is not in the form (the session names it); the
 * form token binds the post to this session. `target="_top"`: when the shop embeds the assistant in a
 * frame (ASSISTANT_FRAME_ANCESTORS), OTTO's pages cannot be framed, so the consent leaves the frame.
 */
function allowAccessForm(
  formToken: string,
  appVersion: AppVersion | undefined,
  label = 'Allow access',
): SafeHtml {
  return html`<form method="post" action="/assistant/otto/allow-access" target="_top">
    <input type="hidden" name="${FORM_TOKEN_FIELD}" value="${formToken}" />
    ${appVersion ? html`<input type="hidden" name="appVersion" value="${appVersion}" />` : ''}
    <button type="submit" id="allow-access">${label}</button>
  </form>`;
}

function errorBlock(lastError: string | null): SafeHtml {
  if (lastError === null) return html``;
  const rights = missingRights(lastError);
  const rightsNote =
    rights.length > 0
      ? html`<p id="missing-right">
          The OTTO user you logged in with is missing: <strong>${rights.join(' and ')}</strong>. Ask an
          administrator of your OTTO Partner Connect account to grant it, or log in at OTTO with a user who
          has admin rights and the permission “Dienstleister Freigaben”. Then click “Allow access” again.
        </p>`
      : /access was not granted/i.test(lastError)
        ? html`<p id="missing-right">
            Only OTTO users with admin rights and the permission “Dienstleister Freigaben” can allow access.
            If you cancelled on purpose, nothing else is needed.
          </p>`
        : '';
  return html`<div role="alert">
    <p class="error" id="last-error">${lastError}</p>
    ${rightsNote}
  </div>`;
}

function accessStep(view: AssistantView): SafeHtml {
  const { formToken, status } = view;
  if (status === null || status.state === 'new') {
    return html`<p>
        Allow otto-connect to exchange orders, stock and prices with your OTTO Market account. You will log in
        at OTTO and confirm the access there.
      </p>
      ${allowAccessForm(formToken, undefined)}`;
  }
  switch (status.state) {
    case 'pending_consent':
      return html`${
        status.lastError === null
          ? html`<p class="progress" id="progress">
              Waiting for your confirmation at
              OTTO${status.pendingConsent ? html` (until ${status.pendingConsent.deadline})` : ''}. If you
              closed OTTO’s page, click “Allow access” again.
            </p>`
          : errorBlock(status.lastError)
      }${allowAccessForm(formToken, status.pendingConsent?.appVersion)}`;
    case 'authorizing':
      return html`<p class="progress" id="progress">
        OTTO confirmed the access. We are completing the authorization… This page refreshes by itself.
      </p>`;
    case 'active':
    case 'degraded':
    case 'paused': {
      const upgrade = status.pendingConsent
        ? html`<p class="progress" id="upgrade-pending">
              The update to app ${status.pendingConsent.appVersion} is waiting for your confirmation at OTTO.
            </p>
            ${allowAccessForm(formToken, status.pendingConsent.appVersion)}`
        : status.upgradeAvailable
          ? html`<div id="upgrade-offer">
              <p>
                A newer version of the OTTO app (${view.latestAppVersion}) is available with more functions.
                Allow access again to update; the current connection keeps working until then.
              </p>
              ${allowAccessForm(formToken, view.latestAppVersion)}
            </div>`
          : '';
      const condition =
        status.state === 'degraded'
          ? html`<p class="progress">OTTO is not reachable at the moment; we keep trying automatically.</p>`
          : status.state === 'paused'
            ? html`<p class="muted">Data transfers are paused by support; the access itself stays valid.</p>`
            : '';
      return html`<p class="note" id="authorization-status">authorization completed</p>
        <p>
          Connected with app
          ${status.appVersion ?? '?'}${status.partnerId ? html` for OTTO partner ${status.partnerId}` : ''}.
        </p>
        ${condition}${errorBlock(status.lastError)}${upgrade}`;
    }
    case 'revoked':
      return html`<p class="error" id="revoked">
          The access was removed in OTTO (“Zugriff entziehen”), so no data is exchanged any more.
        </p>
        <p id="reconnect-help">
          To reconnect: click “Allow access”, log in at OTTO with a user who has admin rights and the
          permission “Dienstleister Freigaben”, and confirm the access.
        </p>
        ${allowAccessForm(formToken, undefined)}`;
    case 'disconnected':
      return html`<p id="disconnected">
          The data exchange with OTTO was removed. Please also remove the app in OTTO Partner Connect
          (Dienstleister → Installierte Apps → Zugriff entziehen). To connect again, click “Allow access”.
        </p>
        ${allowAccessForm(formToken, undefined)}`;
    case 'consent_expired':
      return html`<p id="expired">
          The last request was not confirmed at OTTO in time. Click “Allow access” to try again.
        </p>
        ${errorBlock(status.lastError)}${allowAccessForm(formToken, undefined)}`;
  }
  return html``;
}

const connected = (status: StatusSummaryView | null) =>
  status !== null && ['active', 'degraded', 'paused'].includes(status.state);

function summaryStep(status: StatusSummaryView | null): SafeHtml {
  if (status === null || !connected(status))
    return html`<p class="muted">Available once access to OTTO is allowed.</p>`;
  const transfers = Object.entries(status.transfers);
  return html`<table id="summary">
    <tr>
      <th>App version</th>
      <td>${status.appVersion ?? ''}</td>
    </tr>
    <tr>
      <th>OTTO partner</th>
      <td>${status.partnerId ?? ''}</td>
    </tr>
    <tr>
      <th>Access</th>
      <td>${status.scopes.join(', ')}</td>
    </tr>
    <tr>
      <th>Access token valid until</th>
      <td>${status.token.expiresAt ?? ''}</td>
    </tr>
    ${transfers.map(
      ([kind, t]) =>
        html`<tr>
          <th>${kind}</th>
          <td>
            ${t?.lastResult ?? 'not run yet'}${t?.lastRunAt ? html` at ${t.lastRunAt}` : ''}${
              t?.lastDetail ? html` – ${t.lastDetail}` : ''
            }
          </td>
        </tr>`,
    )}
  </table>`;
}

function finaliseStep(status: StatusSummaryView | null): SafeHtml {
  return connected(status)
    ? html`<p id="finalise">
        Done. Orders, stock and prices are now exchanged with OTTO Market automatically.
      </p>`
    : html`<p class="muted">Complete “Allow access to OTTO” first.</p>`;
}

export function renderAssistant(view: AssistantView): string {
  return page(
    ASSISTANT_TITLE,
    html`<h1>${ASSISTANT_TITLE}</h1>
      <p class="muted">Seller ${view.sellerId}</p>
      <section class="step" id="step-access">
        <h2>1. Allow access to OTTO</h2>
        ${accessStep(view)}
      </section>
      <section class="step" id="step-summary">
        <h2>2. Summary</h2>
        ${summaryStep(view.status)}
      </section>
      <section class="step" id="step-finalise">
        <h2>3. Finalise</h2>
        ${finaliseStep(view.status)}
      </section>`,
    view.status?.state === 'authorizing' ? { refreshSeconds: 3 } : {},
  );
}
