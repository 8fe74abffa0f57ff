// The deal panel inside Pipedrive: initialise the SDK (Pipedrive hides panels that do not within 10 s),
// fit the frame to the content, and call this app's API with a token from get_signed_token; never cookies.
(async () => {
  const sdk = await new AppExtensionsSDK().initialize({ size: { height: fitHeight() } });
  document.documentElement.dataset.sdk = 'initialized';
  const panel = document.getElementById('deal-panel');
  const form = document.getElementById('add-note');
  if (!panel || !form) return;
  const dealId = panel.dataset.dealId;
  const button = form.querySelector('button');
  const error = document.getElementById('note-error');
  button.disabled = false;

  async function api(method, body) {
    const { token } = await sdk.execute('get_signed_token');
    const answer = await fetch(`/extensions/api/deals/${dealId}/notes`, {
      method,
      credentials: 'omit',
      headers: { authorization: `Bearer ${token}`, ...(body && { 'content-type': 'application/json' }) },
      body: body && JSON.stringify(body),
    });
    const json = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error(json.message || `The app answered ${answer.status}`);
    return json;
  }

  function render(notes) {
    const list = document.getElementById('notes');
    list.replaceChildren();
    if (notes.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'muted empty';
      empty.textContent = 'No notes yet.';
      list.append(empty);
    }
    for (const note of notes) {
      const item = document.createElement('li');
      const body = document.createElement('div');
      body.className = 'note-body';
      body.textContent = note.content
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      const time = document.createElement('div');
      time.className = 'muted small';
      time.textContent = note.add_time;
      item.append(body, time);
      list.append(item);
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const content = form.elements.content.value.trim();
    if (!content) return;
    button.disabled = true;
    error.hidden = true;
    try {
      await api('POST', { content });
      render(await api('GET'));
      form.reset();
      await sdk.execute('resize', { height: fitHeight() });
      await sdk.execute('show_snackbar', { message: 'Note added' });
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });

  function fitHeight() {
    return Math.ceil(document.documentElement.scrollHeight) + 2;
  }
})().catch((failure) => {
  document.documentElement.dataset.sdk = 'failed';
  console.error('Pipedrive SDK', failure);
});
