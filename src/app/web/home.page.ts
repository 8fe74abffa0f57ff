import type { PipedriveDeal, PipedriveUser } from '../../index.js';
import { escapeHtml, formatMoney, page } from './html.js';

/** What the home page shows a connected person. */
export interface HomeView {
  user: PipedriveUser;
  deals: PipedriveDeal[];
  totalDeals: number;
  /** Sandbox only: the emulator's host page showing the deal panel for the newest deal. */
  panelDemoUrl?: string;
}

const header = `<header class="topbar"><div class="brand"><span class="logo">P</span> nestjs-pipedrive <small>reference app</small></div></header>`;

/** `/` for someone who has not connected Pipedrive (or whose connection was revoked). */
export function connectPage(notice?: string): string {
  return page(
    'Connect Pipedrive',
    `${header}
<main class="narrow">
  <section class="card hero">
    <h1>Connect your Pipedrive account</h1>
    <p>This app reads and writes deals as you, through Pipedrive's OAuth. Your tokens are stored encrypted and you can disconnect at any time.</p>
    ${notice ? `<p class="notice">${escapeHtml(notice)}</p>` : ''}
    <a class="button primary large" href="/auth/pipedrive" id="connect">Connect Pipedrive</a>
  </section>
</main>`,
  );
}

/** `/` for a connected person: who they are, their deals, recent webhook events, disconnect. */
export function homePage(view: HomeView): string {
  const { user } = view;
  const rows = view.deals
    .map(
      (deal) =>
        `<tr data-deal-id="${deal.id}"><td class="num">${deal.id}</td><td>${escapeHtml(deal.title)}</td>` +
        `<td class="num">${escapeHtml(formatMoney(deal.value, deal.currency))}</td><td><span class="pill ${escapeHtml(deal.status)}">${escapeHtml(deal.status)}</span></td></tr>`,
    )
    .join('');
  return page(
    'Your Pipedrive',
    `${header}
<main>
  <section class="card account">
    <div>
      <div class="label">Connected as</div>
      <div class="who" id="user">${escapeHtml(user.name)} <span class="muted">&lt;${escapeHtml(user.email)}&gt;</span></div>
      <div class="muted" id="company">${escapeHtml(user.company_name)} · company ${user.company_id} · user ${user.id}</div>
    </div>
    <button class="button" id="disconnect" type="button">Disconnect</button>
  </section>

  <div class="columns">
    <section class="card">
      <div class="card-head"><h2>Deals</h2><span class="muted" id="deal-count">${view.deals.length} newest of ${view.totalDeals}</span></div>
      <table class="deals" id="deals">
        <thead><tr><th class="num">#</th><th>Title</th><th class="num">Value</th><th>Status</th></tr></thead>
        <tbody>${rows || '<tr><td colspan="4" class="muted">No deals yet.</td></tr>'}</tbody>
      </table>
    </section>

    <aside>
      <section class="card">
        <h2>Add a deal</h2>
        <form id="add-deal" class="stack">
          <label>Title <input name="title" required maxlength="255" placeholder="e.g. Website redesign"></label>
          <div class="row">
            <label>Value <input name="value" type="number" min="0" step="0.01" placeholder="0.00"></label>
            <label>Currency <input name="currency" maxlength="3" value="EUR" class="short"></label>
          </div>
          <button class="button primary" type="submit">Add deal</button>
          <p class="error" id="add-deal-error" hidden></p>
        </form>
      </section>

      ${
        view.panelDemoUrl
          ? `<section class="card">
        <h2>App extension</h2>
        <p class="muted">See the deal panel of deal #${view.deals[0]?.id} as Pipedrive would show it (sandbox emulator).</p>
        <a class="button" id="panel-demo" href="${escapeHtml(view.panelDemoUrl)}" target="_blank" rel="noopener">Open the deal panel</a>
      </section>`
          : ''
      }

      <section class="card" id="webhook-events" hidden>
        <h2>Recent webhook events</h2>
        <ul class="events" id="webhook-event-list"></ul>
      </section>
    </aside>
  </div>
</main>`,
    { scripts: ['/assets/home.js'] },
  );
}

/** `/` when Pipedrive or the database failed while loading; says so instead of a stack trace. */
export function troublePage(message: string): string {
  return page(
    'Pipedrive unavailable',
    `${header}<main class="narrow"><section class="card hero"><h1>Could not load your Pipedrive data</h1>` +
      `<p class="notice">${escapeHtml(message)}</p><a class="button" href="/">Try again</a></section></main>`,
  );
}
