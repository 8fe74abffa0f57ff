import type { Directory } from '../directory.js';
import type { PipedriveEmulatorDecision, PipedriveEmulatorUser } from '../emulator.types.js';
import type { Exchange } from '../emulator.server.js';
import type { Grants } from './grants.js';

const FIRST_USER: PipedriveEmulatorUser = { companyId: 1, userId: 1 };

/** `GET /oauth/authorize`: no consent screen; the configured user approves or denies at once. */
export class AuthorizeRoute {
  user: PipedriveEmulatorUser = { ...FIRST_USER };
  decision: PipedriveEmulatorDecision = 'approve';
  /** Who approves a flow `connect()` started, by its state, so parallel connects do not share the switch above. */
  private readonly byState = new Map<string, PipedriveEmulatorUser>();

  constructor(
    private readonly grants: Grants,
    private readonly directory: Directory,
  ) {}

  /** The next authorize request carrying this state is approved by `user`, whatever the switches say. */
  approveState(state: string, user: PipedriveEmulatorUser): void {
    this.byState.set(state, { ...user });
  }

  forgetState(state: string): void {
    this.byState.delete(state);
  }

  /** Back to company 1, user 1, approving. */
  reset(): void {
    this.user = { ...FIRST_USER };
    this.decision = 'approve';
  }

  handle(ex: Exchange): void {
    const clientId = ex.query.get('client_id') ?? '';
    const redirectUri = ex.query.get('redirect_uri') ?? '';
    const app = this.grants.app(clientId);
    // A bad client or callback never redirects: sending the user to an unverified URL is what OAuth forbids.
    if (!app) return page(ex, 400, 'Unknown client_id', 'No app with this client_id is registered.');
    if (redirectUri !== app.redirectUri) {
      return page(ex, 400, 'Invalid redirect_uri', 'redirect_uri must match the callback URL registered for the app.');
    }
    const target = new URL(redirectUri);
    const state = ex.query.get('state');
    const connecting = state === null ? undefined : this.byState.get(state);
    if (connecting === undefined && this.decision === 'deny') {
      target.searchParams.set('error', 'user_denied');
    } else {
      const user = connecting ?? this.user;
      this.directory.upsert(user);
      const { companyId, userId } = user;
      target.searchParams.set('code', this.grants.issueCode({ clientId, companyId, userId }, redirectUri));
    }
    if (state !== null) target.searchParams.set('state', state);
    ex.redirect(target.toString());
  }
}

function page(ex: Exchange, status: number, title: string, text: string): void {
  const html = `<!doctype html><title>${title}</title><h1>${title}</h1><p>${text}</p>`;
  ex.send(status, html, { 'content-type': 'text/html; charset=utf-8' });
}
