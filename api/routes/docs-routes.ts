/** The API description: OpenAPI JSON for tools, and a plain HTML reference for people (no CDN). */
import type { Router } from 'express';
import { createRouter } from '../routing';
import { html, page } from '../html';
import { buildOpenApiDocument, openApiPath, ROUTES } from '../openapi';

export function docsRoutes(deps: { publicBaseUrl: string }): Router {
  const router = createRouter();
  const document = buildOpenApiDocument({ serverUrl: deps.publicBaseUrl });
  const paths = document.paths as Record<
    string,
    Record<
      string,
      {
        parameters: { name: string; in: string; required: boolean; description?: string }[];
        requestBody?: unknown;
      }
    >
  >;

  router.get('/api/openapi.json', (_req, res) => {
    res.json(document);
  });

  router.get('/api/docs', (_req, res) => {
    const sections = ROUTES.map((spec) => {
      const op = paths[openApiPath(spec.path)]?.[spec.method];
      const params = op?.parameters ?? [];
      const body = op?.requestBody ? JSON.stringify(op.requestBody, null, 2) : null;
      return html`<section class="step" id="${spec.method}-${spec.path}">
        <h2><code>${spec.method.toUpperCase()} ${spec.path}</code></h2>
        <p>${spec.summary}</p>
        <p class="muted">
          Access:
          ${
            spec.auth === 'public'
              ? 'public'
              : spec.auth === 'session'
                ? 'an assistant session (the one-time link of POST /api/sellers/:sellerId/assistant-sessions)'
                : html`API key with role
                    <strong>${spec.auth}</strong>${spec.auth === 'support' ? ' (or admin)' : ''}`
          }
        </p>
        ${
          params.length > 0
            ? html`<table>
                <tr>
                  <th>Parameter</th>
                  <th>In</th>
                  <th>Required</th>
                  <th>Description</th>
                </tr>
                ${params.map(
                  (p) =>
                    html`<tr>
                      <td><code>${p.name}</code></td>
                      <td>${p.in}</td>
                      <td>${p.required ? 'yes' : 'no'}</td>
                      <td>${p.description ?? ''}</td>
                    </tr>`,
                )}
              </table>`
            : ''
        }
        ${
          body
            ? html`<p>Request body:</p>
                <pre>${body}</pre>`
            : ''
        }
        <p>
          Responses:
          ${Object.entries(spec.responses).map(([status, r]) => html`<br /><code>${status}</code> ${r.description}`)}
        </p>
      </section>`;
    });
    res.type('html').send(
      page(
        'otto-connect API reference',
        html`<h1>otto-connect API reference</h1>
          <p>
            Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1). Errors are
            always <code>{ "error": { "code", "message", "details"? } }</code>; authenticate with
            <code>Authorization: Bearer &lt;key&gt;</code>.
          </p>
          ${sections}`,
      ),
    );
  });

  return router;
}
