/** Who approves the next `/oauth/authorize`; unknown companies and users are created on the fly. */
export interface PipedriveEmulatorUser {
  companyId: number;
  userId: number;
  /** @default `User ${userId}` */
  name?: string;
  /** @default `user${userId}@company${companyId}.example` */
  email?: string;
  /** @default `Company ${companyId}` */
  companyName?: string;
}

/** What the emulator's authorize page does: redirect back with a code, or with `error=access_denied`. */
export type PipedriveEmulatorDecision = 'approve' | 'deny';

/** Exactly the JSON `POST /oauth/token` answers with. */
export interface PipedriveEmulatorTokenAnswer {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  scope: string;
  expires_in: number;
  api_domain: string;
}

/** A grant to issue directly, without the authorize page: the app, the company and the user it acts for. */
export interface PipedriveEmulatorGrant {
  clientId: string;
  companyId: number;
  userId: number;
  /** Access token lifetime for this grant only. @default accessTokenTtlSeconds */
  expiresInSeconds?: number;
}

/** Items created per resource by `emu.seed()`. */
export interface PipedriveEmulatorSeed {
  deals?: number;
  persons?: number;
  organizations?: number;
  activities?: number;
  leads?: number;
  notes?: number;
  /** Pipelines beyond the default one every company starts with. */
  pipelines?: number;
  /** Stages beyond the five default ones, spread over the pipelines. */
  stages?: number;
}

/** Ids created by one `emu.seed()` call, per resource (leads have UUIDs). */
export type PipedriveEmulatorSeedResult = { [K in keyof PipedriveEmulatorSeed]-?: Array<number | string> };

/** A resource the emulator stores and serves (`deals`, `persons`, ...). */
export type PipedriveEmulatorResource = keyof PipedriveEmulatorSeed;

/** Delays before answers, in milliseconds; mutate freely. */
export interface PipedriveEmulatorFaults {
  tokenLatencyMs: number;
  apiLatencyMs: number;
  revokeLatencyMs: number;
}

/** HTTP status (JSON error body), `'garbage'` (200, not JSON), `'invalid_grant'` (400) or `'reset'` (socket destroyed). */
export type PipedriveEmulatorTokenFault = number | 'garbage' | 'invalid_grant' | 'reset';

/** An API fault: an HTTP status to answer with, or `reset` to drop the connection. */
export type PipedriveEmulatorApiFault = number | 'reset';

/** Which token requests a token fault applies to. */
export interface PipedriveEmulatorTokenFaultOptions {
  /** Only fail requests of this grant type. @default any grant */
  grant?: 'authorization_code' | 'refresh_token';
}

/** What an API fault answers with. */
export interface PipedriveEmulatorApiFaultOptions {
  /** Body to send instead of Pipedrive's JSON error (a string is sent as is, e.g. a CDN's HTML). */
  body?: string | object;
  /** Extra response headers, e.g. `{ 'content-type': 'text/html' }`. @default {} */
  headers?: Record<string, string>;
}

/** A forced 429 answer and the rate-limit headers it carries. */
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
export interface RecordedRequest {
  method: string;
  path: string;
  /** Query parameters, with `code`, `api_token` and token-like values redacted. */
  query: Record<string, string>;
  contentType: string | undefined;
  auth: 'basic' | 'bearer' | 'none';
  /** Answer status; 0 while pending or when the socket was reset. */
  status: number;
  /** Receipt time in epoch milliseconds. */
  at: number;
}
