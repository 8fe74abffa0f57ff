// The home page's few actions; the page itself is rendered by the server.
(() => {
  const addDeal = document.getElementById('add-deal');
  if (addDeal) {
    addDeal.addEventListener('submit', async (event) => {
      event.preventDefault();
      const error = document.getElementById('add-deal-error');
      const data = new FormData(addDeal);
      const deal = { title: String(data.get('title')).trim() };
      if (data.get('value')) deal.value = Number(data.get('value'));
      if (data.get('currency')) deal.currency = String(data.get('currency')).trim().toUpperCase();
      error.hidden = true;
      const answer = await fetch('/pipedrive/deals', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(deal),
      });
      if (answer.ok) return location.reload();
      const body = await answer.json().catch(() => ({}));
      error.textContent = body.message || `Could not add the deal (${answer.status}).`;
      error.hidden = false;
    });
  }

  const disconnect = document.getElementById('disconnect');
  if (disconnect) {
    disconnect.addEventListener('click', async () => {
      disconnect.disabled = true;
      await fetch('/auth/pipedrive/disconnect', { method: 'POST' });
      location.assign('/');
    });
  }

  // Shown only when the app receives webhooks (the route exists and answers).
  const events = document.getElementById('webhook-events');
  if (events) {
    fetch('/pipedrive/webhook-events', { headers: { accept: 'application/json' } })
      .then((answer) => (answer.ok ? answer.json() : undefined))
      .then((list) => {
        if (!Array.isArray(list)) return;
        const ul = document.getElementById('webhook-event-list');
        for (const event of list.slice(0, 10)) {
          const li = document.createElement('li');
          const what = document.createElement('strong');
          what.textContent = `${event.action} ${event.entity}`;
          const detail = document.createElement('span');
          detail.className = 'muted';
          detail.textContent = ` #${event.entityId}` + (event.changeSource ? ` · ${event.changeSource}` : '');
          li.append(what, detail);
          ul.append(li);
        }
        if (list.length === 0) ul.innerHTML = '<li class="muted">No events yet.</li>';
        events.hidden = false;
      })
      .catch(() => {});
  }
})();
