import type { Directory } from './directory.js';
import type { PipedriveEmulatorDecision, PipedriveEmulatorUser } from '../emulator.types.js';
import type { Exchange } from '../http-exchange.js';
import type { TokenStore } from './token.store.js';

/** `GET /oauth/authorize`: no consent screen; the configured user approves or denies at once. */
export class AuthorizeRoute {
  user: PipedriveEmulatorUser = { companyId: 1, userId: 1 };
  decision: PipedriveEmulatorDecision = 'approve';

  constructor(
    private readonly tokens: TokenStore,
    private readonly directory: Directory,
  ) {}

  handle(ex: Exchange): void {
    const clientId = ex.query.get('client_id') ?? '';
    const redirectUri = ex.query.get('redirect_uri') ?? '';
    const client = this.tokens.client(clientId);
    // A bad client or callback never redirects: sending the user to an unverified URL is what OAuth forbids.
    if (!client) return page(ex, 400, 'Unknown client_id', 'No app with this client_id is registered.');
    if (redirectUri !== client.redirectUri) {
      return page(ex, 400, 'Invalid redirect_uri', 'redirect_uri must match the callback URL registered for the app.');
    }
    const target = new URL(redirectUri);
    const state = ex.query.get('state');
    if (this.decision === 'deny') {
      target.searchParams.set('error', 'user_denied');
    } else {
      this.directory.upsert(this.user);
      const { companyId, userId } = this.user;
      target.searchParams.set('code', this.tokens.issueCode({ clientId, companyId, userId }, redirectUri));
    }
    if (state !== null) target.searchParams.set('state', state);
    ex.redirect(target.toString());
  }
}

function page(ex: Exchange, status: number, title: string, text: string): void {
  const html = `<!doctype html><title>${title}</title><h1>${title}</h1><p>${text}</p>`;
  ex.send(status, html, { 'content-type': 'text/html; charset=utf-8' });
}
