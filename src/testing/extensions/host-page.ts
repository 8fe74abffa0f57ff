/** What the host page needs to frame one extension for one user. */
export interface HostPageInput {
  frameUrl: string;
  extensionId: string;
  session: string;
  companyId: number;
  userId: number;
  resource: string;
  selectedIds: string[];
}

/** Height limits Pipedrive applies to panels, in px. */
export const PANEL_HEIGHT = { min: 100, max: 750, initial: 300 } as const;

/** Pipedrive hides an extension that has not initialised the SDK within this long. */
export const INITIALIZE_TIMEOUT_MS = 10_000;

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A page in the role of Pipedrive's web app: a record's detail view with the extension framed in
 * its sidebar. Its script is Pipedrive's half of the app-extensions SDK protocol, as the SDK's own
 * source shows it: the frame posts `{ id, payload: { type: 'command', command, args } }` with a
 * MessagePort, and the host answers on that port `{ data }` or `{ error }`.
 */
export function hostPage(input: HostPageInput): string {
  const config = JSON.stringify({
    frameUrl: input.frameUrl,
    frameOrigin: new URL(input.frameUrl).origin,
    extensionId: input.extensionId,
    session: input.session,
    height: PANEL_HEIGHT,
    initializeTimeoutMs: INITIALIZE_TIMEOUT_MS,
  }).replace(/</g, '\\u003c');
  const record = `${escape(input.resource)} ${input.selectedIds.map(escape).join(', ') || '(none)'}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pipedrive emulator: ${record}</title>
<style>
  body { margin: 0; font: 14px/1.45 system-ui, sans-serif; background: #f4f5f7; color: #21232c; }
  header { background: #1b1f2c; color: #fff; padding: 10px 20px; display: flex; justify-content: space-between; }
  header small { opacity: .7; }
  main { display: grid; grid-template-columns: 360px 1fr; gap: 20px; padding: 20px; }
  .card { background: #fff; border: 1px solid #dfe1e6; border-radius: 6px; }
  .card h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; margin: 0; padding: 10px 14px; border-bottom: 1px solid #dfe1e6; color: #5c6071; }
  iframe { display: block; width: 100%; border: 0; height: ${PANEL_HEIGHT.initial}px; }
  iframe[hidden] { display: none; }
  #status { padding: 8px 14px; font-size: 12px; color: #5c6071; border-top: 1px solid #dfe1e6; }
  #snackbar { position: fixed; left: 50%; bottom: 24px; transform: translateX(-50%); background: #21232c; color: #fff; padding: 10px 18px; border-radius: 4px; display: none; }
  #snackbar.shown { display: block; }
  .timeline { padding: 14px; color: #5c6071; }
</style></head>
<body>
<header><strong>Pipedrive <small>(emulator)</small></strong><span>company ${input.companyId} · user ${input.userId}</span></header>
<main>
  <section class="card" aria-label="App panel"><h2>App panel</h2>
    <iframe id="extension" title="App extension" sandbox="allow-scripts allow-forms allow-same-origin allow-popups allow-top-navigation-by-user-activation"></iframe>
    <div id="status" data-state="loading">Loading the app…</div>
  </section>
  <section class="card"><h2>${record}</h2><div class="timeline">The record's detail view: Pipedrive's own content would be here.</div></section>
</main>
<div id="snackbar" role="status"></div>
<script>
(() => {
  const config = ${config};
  const frame = document.getElementById('extension');
  const status = document.getElementById('status');
  const snackbar = document.getElementById('snackbar');
  let initialized = false;
  let hidden = false;
  const setStatus = (state, text) => { status.dataset.state = state; status.textContent = text; };
  const clamp = (h) => Math.max(config.height.min, Math.min(config.height.max, Math.round(h)));
  const report = (command, args, outcome) =>
    fetch('/app-extensions/commands?session=' + config.session, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ command, args, outcome }) });
  const handlers = {
    async initialize(args) {
      if (hidden) throw new Error('The extension was hidden: it did not initialise within ' + config.initializeTimeoutMs / 1000 + ' s');
      initialized = true;
      if (args && args.size && args.size.height) frame.style.height = clamp(args.size.height) + 'px';
      setStatus('initialized', 'App initialised');
    },
    async resize(args) {
      if (args && args.height) frame.style.height = clamp(args.height) + 'px';
    },
    async get_signed_token() {
      const answer = await fetch('/app-extensions/token?session=' + config.session, { method: 'POST' });
      if (!answer.ok) throw new Error('Could not sign a token');
      return { token: (await answer.json()).token };
    },
    async show_snackbar(args) {
      snackbar.textContent = String(args && args.message || '');
      snackbar.classList.add('shown');
      clearTimeout(handlers.hide);
      handlers.hide = setTimeout(() => snackbar.classList.remove('shown'), 5000);
    },
  };
  window.addEventListener('message', async (event) => {
    if (event.source !== frame.contentWindow || event.origin !== config.frameOrigin) return;
    const message = event.data || {};
    const payload = message.payload || {};
    if (message.id !== config.extensionId || payload.type !== 'command') return;
    const port = event.ports[0];
    const handler = Object.prototype.hasOwnProperty.call(handlers, payload.command) ? handlers[payload.command] : undefined;
    let outcome = 'ok';
    try {
      if (!handler) throw new Error('Command ' + payload.command + ' is not supported by the emulator');
      if (!initialized && payload.command !== 'initialize') throw new Error('SDK is not initialized');
      const data = await handler(payload.args);
      if (port) port.postMessage({ data });
    } catch (error) {
      outcome = error.message;
      if (port) port.postMessage({ error: error.message });
    }
    report(payload.command, payload.args === undefined ? null : payload.args, outcome);
  });
  setTimeout(() => {
    if (initialized) return;
    hidden = true;
    frame.hidden = true;
    setStatus('timeout', 'The app did not initialise the SDK within ' + config.initializeTimeoutMs / 1000 + ' s, so Pipedrive hides it.');
  }, config.initializeTimeoutMs);
  frame.src = config.frameUrl;
})();
</script>
</body></html>`;
}
