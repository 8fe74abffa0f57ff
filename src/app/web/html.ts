import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A whole page around `body`: the app's stylesheet and the given scripts, all served from this origin. */
export function page(title: string, body: string, options: { scripts?: string[]; bodyClass?: string } = {}): string {
  const scripts = (options.scripts ?? []).map((src) => `<script src="${escapeHtml(src)}" defer></script>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/app.css">
${scripts}
</head>
<body${options.bodyClass ? ` class="${escapeHtml(options.bodyClass)}"` : ''}>
${body}
</body>
</html>`;
}

/** A deal's value as people write it: "1,250.00 EUR". */
export function formatMoney(value: { amount: number; currency: string } | number | null | undefined, currency?: string): string {
  if (value === null || value === undefined) return '—';
  const amount = typeof value === 'number' ? value : value.amount;
  const code = typeof value === 'number' ? (currency ?? '') : value.currency;
  return `${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${code}`.trim();
}

/**
 * The files under `/assets/`. `public/` sits at the repository root, so the same relative path finds it
 * from `src/app/web` (npm start) and from `dist/app/web` (npm run build; npm run start:prod).
 */
export const ASSET_FILES: Record<string, { path: string; type: string }> = {
  'app.css': { path: fileURLToPath(new URL('../../../public/app.css', import.meta.url)), type: 'text/css; charset=utf-8' },
  'home.js': { path: fileURLToPath(new URL('../../../public/home.js', import.meta.url)), type: 'text/javascript; charset=utf-8' },
  'deal-panel.js': {
    path: fileURLToPath(new URL('../../../public/deal-panel.js', import.meta.url)),
    type: 'text/javascript; charset=utf-8',
  },
  // The official SDK, served from this origin rather than a CDN.
  'app-extensions-sdk.js': {
    path: createRequire(import.meta.url).resolve('@pipedrive/app-extensions-sdk/dist/index.umd.js'),
    type: 'text/javascript; charset=utf-8',
  },
};
