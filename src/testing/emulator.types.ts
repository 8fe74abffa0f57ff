import type { PipedriveConnectedBody } from '../auth/pipedrive-auth.controller.js';

/** A Pipedrive user of a company, who approves an authorization; unknown companies and users are created on the fly. */
export interface PipedriveEmulatorUser {
  /** Pipedrive company id (`company_id`). */
  companyId: number;
  /** Pipedrive user id within that company. */
  userId: number;
  /** @default `User ${userId}` */
  name?: string;
  /** @default `user${userId}@company${companyId}.example` */
  email?: string;
  /** @default `Company ${companyId}` */
  companyName?: string;
}

/** Whether the user approves or denies on the authorize page. */
export type PipedriveEmulatorDecision = 'approve' | 'deny';

/** Tokens for one user of one company, issued by `grant()` without the browser dance. */
export interface PipedriveEmulatorGrant {
  /** The registered app's `clientId`. */
  clientId: string;
  /** Pipedrive company id. */
  companyId: number;
  /** Pipedrive user id. */
  userId: number;
  /** Access token lifetime for this grant only. @default accessTokenTtlSeconds */
  expiresInSeconds?: number;
}

/** Items created per resource by `seed()`; each defaults to 0. */
export interface PipedriveEmulatorSeed {
  /** Deals, linked to stages, persons and organizations. */
  deals?: number;
  /** Persons, linked to organizations. */
  persons?: number;
  /** Organizations. */
  organizations?: number;
  /** Activities, linked to deals, persons and organizations. */
  activities?: number;
  /** Leads (UUID ids), linked to a person or an organization. */
  leads?: number;
  /** Notes, attached to a deal, person or organization. */
  notes?: number;
  products?: number;
  /** Pipelines beyond the default one every company starts with. */
  pipelines?: number;
  /** Stages beyond the five default ones, spread over the pipelines. */
  stages?: number;
}

/** Ids created by one `seed()` call, per resource (leads have UUIDs). */
export type PipedriveEmulatorSeedResult = { [K in keyof PipedriveEmulatorSeed]-?: Array<number | string> };

/** A resource the emulator serves and seeds. */
export type PipedriveEmulatorResource = keyof PipedriveEmulatorSeed;

/** One item of a company's data as the API returns it (leads have UUID ids). */
export type PipedriveEmulatorRecord = Record<string, unknown> & { id: number | string };

/** The entities whose custom fields Pipedrive defines per company; leads carry the deal fields. */
export type PipedriveEmulatorFieldEntity = 'deal' | 'person' | 'organization' | 'product';

/** A custom field to add to a company, as an admin does in Settings > Data fields. */
export interface PipedriveEmulatorCustomFieldInput {
  /** The name users see, e.g. `Budget`. */
  name: string;
  /** Pipedrive's field type; enum (one option) and set (several) need `options`. */
  type:
    | 'varchar'
    | 'varchar_auto'
    | 'text'
    | 'int'
    | 'double'
    | 'monetary'
    | 'date'
    | 'time'
    | 'phone'
    | 'address'
    | 'enum'
    | 'set'
    | 'user'
    | 'org'
    | 'people';
  /** Option labels of an enum or set field; ids are given by the emulator. */
  options?: string[];
}

/** A custom field as the emulator holds it. */
export interface PipedriveEmulatorCustomField {
  /** The 40-character hash the API uses as the value's key. */
  key: string;
  name: string;
  type: PipedriveEmulatorCustomFieldInput['type'];
  /** Options of an enum or set field (integer ids), else null. */
  options: Array<{ id: number; label: string }> | null;
}

/** HTTP status (JSON error body), `'garbage'` (200, not JSON), `'invalid_grant'` (400) or `'reset'` (socket destroyed). */
export type PipedriveEmulatorTokenFault = number | 'garbage' | 'invalid_grant' | 'reset';

/** HTTP status (Pipedrive's JSON error body) or `'reset'` (socket destroyed). */
export type PipedriveEmulatorApiFault = number | 'reset';

/** Narrows a token fault. */
export interface PipedriveEmulatorTokenFaultOptions {
  /** Only fail requests of this grant type. @default any grant */
  grant?: 'authorization_code' | 'refresh_token';
}

/** What a failing API answer carries instead of Pipedrive's JSON error. */
export interface PipedriveEmulatorApiFaultOptions {
  /** Body to send instead of Pipedrive's JSON error (a string is sent as is, e.g. a CDN's HTML). */
  body?: string | object;
  /** Extra response headers, e.g. `{ 'content-type': 'text/html' }`. @default {} */
  headers?: Record<string, string>;
}

/** The shape of a forced 429. */
export interface PipedriveEmulatorForcedRateLimit {
  /** `x-ratelimit-reset` value. @default 2 */
  resetSeconds?: number;
  /** Adds `Retry-After` with this many seconds. @default no Retry-After */
  retryAfterSeconds?: number;
  /** Send the `x-ratelimit-*` headers at all. @default true */
  headers?: boolean;
}

/** Exact counters, bumped when a request is received and classified (before any latency). */
export interface PipedriveEmulatorCounts {
  /** `POST /oauth/token` with `grant_type=authorization_code`. */
  authorizationCode: number;
  /** `POST /oauth/token` with `grant_type=refresh_token`. */
  refreshToken: number;
  /** `POST /oauth/revoke`. */
  revoke: number;
  /** Every request under `/api/`. */
  api: number;
  /** API requests answered 429 (real or forced). */
  rateLimited: number;
  /** Token-endpoint requests answered with anything but tokens (errors, garbage, resets). */
  tokenErrors: number;
}

/** One request as the emulator saw it; token values are never stored. */
export interface PipedriveEmulatorRequest {
  /** HTTP method. */
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query parameters, with `code`, `api_token` and token-like values redacted. */
  query: Record<string, string>;
  /** The `Content-Type` header as sent. */
  contentType: string | undefined;
  /** The `Authorization` scheme used, never its value. */
  auth: 'basic' | 'bearer' | 'none';
  /** Answer status; 0 while pending or when the socket was reset. */
  status: number;
  /** Receipt time in epoch milliseconds. */
  at: number;
}

/** What `connect()` needs besides the app: who approves, and where the app starts the flow. */
export interface PipedriveEmulatorConnectOptions extends PipedriveEmulatorUser {
  /** Path of the app's OAuth start route (with any global prefix). @default '/auth/pipedrive' */
  startPath?: string;
}

/** The outcome of `connect()`: the browser's session, ready for a `Cookie` header. */
export interface PipedriveEmulatorConnected {
  /** `name=value` pairs of the cookies the callback set (the session cookie), joined with `; `. */
  cookie: string;
  /**
   * The callback's JSON body (`PipedriveConnectedBody`: companyId, userId, apiDomain, scopes, status);
   * undefined when the app redirects after connecting (`successRedirect`).
   */
  connection?: PipedriveConnectedBody;
}
