import type { Reply } from '../emulator.server.js';
import { apiError, badRequest } from './envelope.js';
import { isoMillis } from './resource-definition.js';
import type { PipedriveEmulatorWebhook } from './webhook.types.js';
import { MAX_WEBHOOKS_PER_USER } from '../../webhooks/pipedrive-webhooks.options.js';
import { WEBHOOK_ACTIONS, WEBHOOK_OBJECTS } from '../../webhooks/webhook-event-pattern.js';
import type { Owner } from '../oauth/grants.js';

/** The scope Pipedrive requires of an app's token to manage app webhooks. */
export const WEBHOOKS_SCOPE = 'admin';
// Pipedrive's rules, written once in the library and enforced here as Pipedrive enforces them.
export const V2_ACTIONS: readonly string[] = [...WEBHOOK_ACTIONS, '*'];
export const V2_OBJECTS: readonly string[] = [...WEBHOOK_OBJECTS, '*'];
/** Objects only webhooks version 1.0 know; asking for them with version 2.0 is refused. */
const V1_ONLY_OBJECTS: readonly string[] = ['pipeline', 'stage', 'activityType'];

/** A registered webhook and its delivery state (mutated by the deliveries). */
export interface Hook {
  id: number;
  companyId: number;
  ownerId: number;
  userId: number;
  clientId: string;
  eventAction: string;
  eventObject: string;
  subscriptionUrl: string;
  httpAuthUser: string | null;
  httpAuthPassword: string | null;
  addTime: number;
  removed: boolean;
  banCounter: number;
  bannedUntil?: number;
  lastSuccessAt?: number;
  /** Time of the first failure since the last success: three days of this and the webhook goes. */
  failingSince?: number;
  lastDeliveryTime?: number;
  lastHttpStatus?: number;
}

/** Every app webhook of every company, in creation order. */
export class WebhookRegistry {
  private readonly hooks = new Map<number, Hook>();
  private lastId = 0;

  add(fields: Omit<Hook, 'id' | 'removed' | 'banCounter'>): Hook {
    const hook: Hook = { ...fields, id: ++this.lastId, removed: false, banCounter: 0 };
    this.hooks.set(hook.id, hook);
    return hook;
  }

  get(id: number): Hook | undefined {
    return this.hooks.get(id);
  }

  /** The webhooks one app user created, as `GET /v1/webhooks` shows them to that app. */
  ownedBy(owner: Owner): Hook[] {
    return [...this.hooks.values()].filter(
      (h) => h.clientId === owner.clientId && h.companyId === owner.companyId && h.ownerId === owner.userId,
    );
  }

  /** Webhooks of a company subscribed to this event (wildcards match anything). */
  matching(companyId: number, action: string, entity: string): Hook[] {
    return [...this.hooks.values()].filter(
      (h) =>
        h.companyId === companyId &&
        (h.eventAction === '*' || h.eventAction === action) &&
        (h.eventObject === '*' || h.eventObject === entity),
    );
  }

  remove(id: number): boolean {
    const hook = this.hooks.get(id);
    if (!hook) return false;
    hook.removed = true;
    return this.hooks.delete(id);
  }

  /** Uninstall: Pipedrive deletes every webhook the app made for that user. */
  removeOwnedBy(owner: Owner): number {
    const owned = this.ownedBy(owner);
    for (const hook of owned) this.remove(hook.id);
    return owned.length;
  }

  /** Copies for tests, optionally of one company. */
  snapshot(companyId?: number): PipedriveEmulatorWebhook[] {
    return [...this.hooks.values()]
      .filter((h) => companyId === undefined || h.companyId === companyId)
      .map((h) => ({
        id: h.id,
        companyId: h.companyId,
        ownerId: h.ownerId,
        userId: h.userId,
        clientId: h.clientId,
        eventAction: h.eventAction,
        eventObject: h.eventObject,
        subscriptionUrl: h.subscriptionUrl,
        httpAuthUser: h.httpAuthUser,
        type: 'application',
        banCounter: h.banCounter,
        ...(h.bannedUntil !== undefined && { bannedUntil: h.bannedUntil }),
        ...(h.lastSuccessAt !== undefined && { lastSuccessAt: h.lastSuccessAt }),
      }));
  }
}

export interface WebhookRoutesDeps {
  registry: WebhookRegistry;
  now: () => number;
  /** True for URLs of Pipedrive's own API (pipedrive.com hosts and the emulator itself). */
  isPipedriveUrl: (url: URL) => boolean;
}

/** The caller as the API router sees it: the access token's owner and its scopes. */
export type ScopedOwner = Owner & { scope: string };

/**
 * `POST/GET /api/v1/webhooks` and `DELETE /api/v1/webhooks/{id}` for OAuth apps: version 2.0 only,
 * the token needs the `admin` scope, webhooks are of type `application`, at most 40 per app user,
 * and only the app that made one sees or deletes it.
 */
export class WebhookRoutes {
  constructor(private readonly deps: WebhookRoutesDeps) {}

  handle(method: string, idPart: string | undefined, body: unknown, owner: ScopedOwner): Reply {
    if (
      !owner.scope
        .split(',')
        .map((s) => s.trim())
        .includes(WEBHOOKS_SCOPE)
    )
      return apiError(403, 'Scope and URL mismatch');
    if (idPart === undefined) {
      if (method === 'GET') return okStatus(200, this.deps.registry.ownedBy(owner).map(view));
      if (method === 'POST') return this.create(body, owner);
      return apiError(405, 'Method not allowed');
    }
    if (method !== 'DELETE') return apiError(405, 'Method not allowed');
    if (!/^[1-9]\d{0,15}$/.test(idPart)) return badRequest('Validation failed: id: Expected a positive integer');
    const hook = this.deps.registry.get(Number(idPart));
    const mine = hook && hook.clientId === owner.clientId && hook.companyId === owner.companyId && hook.ownerId === owner.userId;
    if (!mine) return apiError(404, 'Webhook not found', 'ERR_NOT_FOUND');
    this.deps.registry.remove(hook.id);
    return { status: 200, body: { status: 'ok', success: true } };
  }

  private create(body: unknown, owner: ScopedOwner): Reply {
    const input = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    if (!input) return badRequest('Validation failed: body: Expected a JSON object');
    const problem = this.invalid(input);
    if (problem) return badRequest(problem);
    if (this.deps.registry.ownedBy(owner).length >= MAX_WEBHOOKS_PER_USER) {
      return apiError(
        400,
        `Webhooks limit reached: a user can have at most ${MAX_WEBHOOKS_PER_USER} webhooks`,
        'ERR_WEBHOOKS_LIMIT_REACHED',
      );
    }
    const hook = this.deps.registry.add({
      companyId: owner.companyId,
      ownerId: owner.userId,
      userId: (input.user_id as number | undefined) ?? owner.userId,
      clientId: owner.clientId,
      eventAction: input.event_action as string,
      eventObject: input.event_object as string,
      subscriptionUrl: input.subscription_url as string,
      httpAuthUser: (input.http_auth_user as string | undefined) ?? null,
      httpAuthPassword: (input.http_auth_password as string | undefined) ?? null,
      addTime: this.deps.now(),
    });
    return okStatus(201, view(hook));
  }

  private invalid(input: Record<string, unknown>): string | undefined {
    const { subscription_url: url, event_action: action, event_object: object, version = '2.0', user_id: userId } = input;
    if (version !== '2.0')
      return `Validation failed: version: The emulator serves webhooks version 2.0 only (got ${JSON.stringify(version)})`;
    if (typeof url !== 'string' || !URL.canParse(url))
      return "Validation failed: subscription_url: Parameter 'subscription_url' must be a valid URL";
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      return "Validation failed: subscription_url: Parameter 'subscription_url' must be an http(s) URL";
    if (this.deps.isPipedriveUrl(parsed))
      return "Validation failed: subscription_url: Pipedrive API URLs can't be used as subscription_url";
    if (typeof action !== 'string' || !V2_ACTIONS.includes(action))
      return `Validation failed: event_action: Must be one of ${V2_ACTIONS.join(', ')}`;
    if (typeof object === 'string' && V1_ONLY_OBJECTS.includes(object))
      return `Validation failed: event_object: '${object}' is not supported by webhooks version 2.0`;
    if (typeof object !== 'string' || !V2_OBJECTS.includes(object))
      return `Validation failed: event_object: Must be one of ${V2_OBJECTS.join(', ')}`;
    for (const field of ['http_auth_user', 'http_auth_password'] as const) {
      if (input[field] !== undefined && input[field] !== null && typeof input[field] !== 'string')
        return `Validation failed: ${field}: Expected a string`;
    }
    if (userId !== undefined && (!Number.isInteger(userId) || (userId as number) < 1))
      return 'Validation failed: user_id: Expected a positive integer';
    return undefined;
  }
}

function okStatus(status: number, data: unknown): Reply {
  return { status, body: { status: 'ok', success: true, data } };
}

/** The webhook as Pipedrive's API shows it. */
function view(hook: Hook): Record<string, unknown> {
  return {
    id: hook.id,
    company_id: hook.companyId,
    owner_id: hook.ownerId,
    user_id: hook.userId,
    event_action: hook.eventAction,
    event_object: hook.eventObject,
    subscription_url: hook.subscriptionUrl,
    is_active: 1,
    add_time: isoMillis(hook.addTime),
    remove_time: null,
    remove_reason: null,
    type: 'application',
    http_auth_user: hook.httpAuthUser,
    http_auth_password: hook.httpAuthPassword,
    admin_id: hook.ownerId,
    last_delivery_time: hook.lastDeliveryTime === undefined ? null : isoMillis(hook.lastDeliveryTime),
    last_http_status: hook.lastHttpStatus ?? null,
    version: '2.0',
  };
}
