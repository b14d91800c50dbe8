/**
 * Server-rendered pages (assistant, callback refusals, docs). Every value is escaped through `html`
 * templates, so nothing reflected from a request or from OTTO can become markup.
 */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Markup that is already safe (built by `html`), as opposed to a string that must be escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolated = SafeHtml | string | number | null | undefined | false | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly Interpolated[]).map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: interpolations are escaped unless they are SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

export function page(title: string, body: SafeHtml, options: { refreshSeconds?: number } = {}): string {
  const refresh =
    options.refreshSeconds === undefined
      ? ''
      : html`<meta http-equiv="refresh" content="${options.refreshSeconds}" />`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${refresh}
        <title>${title}</title>
        <style>
          body {
            font-family: system-ui, sans-serif;
            max-width: 46rem;
            margin: 2rem auto;
            padding: 0 1rem;
            color: #222;
            line-height: 1.45;
          }
          .step {
            border: 1px solid #ccc;
            border-radius: 6px;
            padding: 1rem 1.25rem;
            margin: 1rem 0;
          }
          .step h2 {
            margin-top: 0;
            font-size: 1.1rem;
          }
          .note {
            color: #0a6b2a;
            font-weight: 600;
          }
          .error {
            color: #a00;
          }
          .progress {
            color: #8a5a00;
          }
          .muted {
            color: #666;
          }
          button {
            font-size: 1rem;
            padding: 0.45rem 1rem;
            cursor: pointer;
          }
          code,
          pre {
            background: #f4f4f4;
            padding: 0.1rem 0.3rem;
            border-radius: 3px;
          }
          pre {
            padding: 0.6rem;
            overflow: auto;
          }
          table {
            border-collapse: collapse;
          }
          td,
          th {
            border-bottom: 1px solid #ddd;
            padding: 0.25rem 0.6rem;
            text-align: left;
            vertical-align: top;
          }
        </style>
      </head>
      <body>
        ${body}
      </body>
    </html> `.value;
}
