/** Base class of every error this library throws. */
export class PipedriveError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** The module options are missing or wrong; the message names the option to set. */
export class PipedriveConfigurationError extends PipedriveError {}

/**
 * The database holding connections and OAuth states could not be read or written: unreachable,
 * refusing connections, read-only, or not migrated. The message names the operation and the driver's
 * error code only; the driver's error, whose text may quote query parameters (token ciphertexts), is
 * kept as `cause` and never shown. Worth retrying once the database is back.
 */
export class PipedriveStorageError extends PipedriveError {
  constructor(
    /** What the library was doing, e.g. `update a connection`. */
    readonly operation: string,
    /** The driver's error code (`ECONNREFUSED`, `57P01`, `SQLITE_READONLY`), when it has a plain one. */
    readonly code: string | undefined,
    options?: ErrorOptions,
  ) {
    super(`The database is unavailable: could not ${operation}${code ? ` (${code})` : ''}. Check that it is up and migrated.`, options);
  }
}

/** Shape of Pipedrive's rate-limit headers as last seen for a token. */
export interface PipedriveRateLimitState {
  limit?: number;
  remaining?: number;
  /** Seconds until the window frees capacity, as sent in `x-ratelimit-reset`. */
  resetSeconds?: number;
  /** Seconds from `Retry-After`, where Pipedrive sent one. */
  retryAfterSeconds?: number;
}

/**
 * Pipedrive's token endpoint refused or garbled a code exchange, refresh or revoke.
 * `transient` is true for 5xx, network failures and unreadable answers: worth retrying later.
 */
export class PipedriveTokenEndpointError extends PipedriveError {
  constructor(
    message: string,
    readonly details: {
      grant: 'authorization_code' | 'refresh_token' | 'revoke';
      status?: number;
      /** OAuth error code from the body, e.g. `invalid_grant`. */
      oauthError?: string;
      transient: boolean;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The connection cannot be used until the user installs the app again. */
export class PipedriveReauthorizationRequiredError extends PipedriveError {
  constructor(
    readonly connectionId: string,
    readonly reason: 'invalid_grant' | 'revoked' | 'undecryptable' | 'missing_tokens',
  ) {
    super(`Pipedrive connection ${connectionId} needs re-authorization (${reason}); send the user through /oauth/authorize again.`);
  }
}

/** No connection with that id, or for that company and user. */
export class PipedriveConnectionNotFoundError extends PipedriveError {
  constructor(readonly lookup: string) {
    super(`No Pipedrive connection for ${lookup}.`);
  }
}

/** Pipedrive answered an API call with an error status. */
export class PipedriveApiError extends PipedriveError {
  constructor(
    message: string,
    readonly details: {
      status: number;
      method: string;
      /** Path without query string: never carries a token. */
      path: string;
      /** Pipedrive's `error` field. */
      error?: string;
      /** Pipedrive's `error_info` field. */
      errorInfo?: string;
      /** Pipedrive's machine-readable code, where the body has one. */
      code?: string;
      requestId?: string;
      rateLimit?: PipedriveRateLimitState;
    },
  ) {
    super(message);
  }
  get status(): number {
    return this.details.status;
  }
}

/** Still rate-limited after the bounded number of waits. */
export class PipedriveRateLimitError extends PipedriveApiError {}

/**
 * The company's daily token budget at Pipedrive is spent: no call for it leaves until `resetAt`.
 * Thrown at once, without a request, by every instance that has learnt it.
 */
export class PipedriveBudgetExhaustedError extends PipedriveError {
  constructor(
    readonly companyId: number,
    /** When Pipedrive grants the company a new budget. */
    readonly resetAt: Date,
  ) {
    super(`Pipedrive's daily API budget of company ${companyId} is spent until ${resetAt.toISOString()}; calls resume then.`);
  }
}

/** The request never got an HTTP answer (connection refused, reset, DNS). */
export class PipedriveNetworkError extends PipedriveError {
  constructor(
    message: string,
    readonly details: { method: string; path: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The request was aborted by its timeout or by the caller's AbortSignal. */
export class PipedriveTimeoutError extends PipedriveNetworkError {}

/**
 * A Pipedrive user opened an app extension (the token is valid) but never connected the app, so
 * there is no connection to act as. Apps catch it to show a "connect first" page.
 */
export class PipedriveExtensionNotConnectedError extends PipedriveConnectionNotFoundError {
  constructor(
    readonly companyId: number,
    readonly userId: number,
  ) {
    super(`company ${companyId}, user ${userId}`);
  }
}
