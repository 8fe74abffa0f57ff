import type { AccessTokenSource } from './execute-request.js';

/** The API version of an SDK class: `v1` or `v2`. */
export type PipedriveSdkVersion = 'v1' | 'v2';

/** What the official SDK's API classes read from their `Configuration`. */
export interface PipedriveSdkConfiguration {
  basePath: string;
  /** Called by the SDK before each request. */
  accessToken: () => Promise<string>;
  /** Whether a content type is JSON, as the SDK asks. */
  isJsonMime(mime: string): boolean;
}

/** An API class of the `pipedrive` package, e.g. `v2.DealsApi` or `v1.UsersApi`. */
export type PipedriveSdkApiClass<A> = new (configuration: PipedriveSdkConfiguration) => A;

const JSON_MIME = /^(application\/json|[^;/ \t]+\/[^;/ \t]+\+json)[ \t]*(;.*)?$/i;

/**
 * A configuration for the SDK backed by TokenService, without importing the SDK (an optional peer).
 * The SDK does not retry a 401 with a fresh token; the library's own helpers do.
 */
export function sdkConfiguration(
  tokens: AccessTokenSource,
  connectionId: string,
  apiDomain: string,
  version: PipedriveSdkVersion,
): PipedriveSdkConfiguration {
  return {
    basePath: `${apiDomain.replace(/\/+$/, '')}/api/${version}`,
    accessToken: async () => (await tokens.getAccessToken(connectionId)).accessToken,
    isJsonMime: (mime) => JSON_MIME.test(mime),
  };
}
