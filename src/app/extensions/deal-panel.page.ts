import { escapeHtml, formatMoney, page } from '../web/html.js';
import type { DealSummary } from './deal-notes.js';

/** The custom panel inside Pipedrive's deal view: the deal, its notes, a form to add one. */
export function dealPanelPage({ deal, notes }: DealSummary): string {
  const items = notes
    .map(
      (note) =>
        `<li><div class="note-body">${escapeHtml(stripTags(note.content))}</div><div class="muted small">${escapeHtml(note.add_time)}</div></li>`,
    )
    .join('');
  return page(
    `Deal ${deal.id}`,
    `<main class="panel" id="deal-panel" data-deal-id="${deal.id}">
  <h1 id="deal-title">${escapeHtml(deal.title)}</h1>
  <div class="value" id="deal-value">${escapeHtml(formatMoney(deal.value, deal.currency))} <span class="pill ${escapeHtml(deal.status)}">${escapeHtml(deal.status)}</span></div>
  <h2>Notes</h2>
  <ul class="notes" id="notes">${items || '<li class="muted empty">No notes yet.</li>'}</ul>
  <form id="add-note" class="stack">
    <label>Add a note <textarea name="content" rows="2" required maxlength="10000" placeholder="What happened?"></textarea></label>
    <button class="button primary" type="submit" disabled>Add note</button>
    <p class="error" id="note-error" hidden></p>
  </form>
</main>`,
    { scripts: ['/assets/app-extensions-sdk.js', '/assets/deal-panel.js'], bodyClass: 'in-panel' },
  );
}

/** Shown inside Pipedrive to a user whose token is valid but who never connected the app: a link, no data. */
export function connectFirstPage(connectUrl: string): string {
  return page(
    'Connect Pipedrive first',
    `<main class="panel" id="connect-first">
  <h1>Connect the app first</h1>
  <p>This panel acts as your Pipedrive user. Connect the app once, then reload this panel.</p>
  <a class="button primary" href="${escapeHtml(connectUrl)}" target="_blank" rel="noopener" id="connect">Connect Pipedrive</a>
</main>`,
    { scripts: ['/assets/app-extensions-sdk.js', '/assets/deal-panel.js'], bodyClass: 'in-panel' },
  );
}

/** Pipedrive stores notes as HTML; the panel shows their text. */
export function stripTags(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
