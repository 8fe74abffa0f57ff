import { Injectable } from '@nestjs/common';
import { request } from 'undici';
import { readRateLimit, toApiError } from '../client/http-transport.js';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveApiError, PipedriveNetworkError, PipedriveTimeoutError } from '../errors/pipedrive.errors.js';
import type { PipedriveIdentity } from '../tokens/pipedrive-token.types.js';

const PATH = '/api/v1/users/me';

/**
 * Who just authorized: `GET {api_domain}/api/v1/users/me` with the fresh access token. A plain
 * call rather than PipedriveClient, because no connection exists yet to name.
 */
@Injectable()
export class PipedriveIdentityFetcher {
  constructor(
    @InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
  ) {}

  /** The company and user the access token belongs to; PipedriveApiError / PipedriveNetworkError on failure. */
  async fetch(apiDomain: string, accessToken: string): Promise<PipedriveIdentity> {
    const timeoutMs = this.options.client.timeoutMs;
    let answer: { status: number; headers: Record<string, string | string[] | undefined>; text: string };
    try {
      const response = await request(new URL(PATH, apiDomain), {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      answer = { status: response.statusCode, headers: response.headers, text: await response.body.text() };
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError';
      const Failure = timedOut ? PipedriveTimeoutError : PipedriveNetworkError;
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `failed: ${(error as { code?: string }).code ?? 'network error'}`;
      throw new Failure(`Pipedrive GET ${PATH} ${why}`, { method: 'GET', path: PATH }, { cause: error });
    }
    const call = { method: 'GET', path: PATH, accessToken };
    if (answer.status >= 300) throw toApiError(call, answer, readRateLimit(answer.headers, this.clock.now()));
    return parseIdentity(answer.status, answer.text);
  }
}

function parseIdentity(status: number, text: string): PipedriveIdentity {
  let data: { id?: unknown; company_id?: unknown } | undefined;
  try {
    data = (JSON.parse(text) as { data?: typeof data }).data;
  } catch {
    data = undefined;
  }
  const userId = positiveId(data?.id);
  const companyId = positiveId(data?.company_id);
  if (userId === undefined || companyId === undefined) {
    throw new PipedriveApiError(`Pipedrive GET ${PATH} answered ${status} without a user id and company id`, {
      status,
      method: 'GET',
      path: PATH,
    });
  }
  return { companyId, userId };
}

/** A JSON number or decimal string that is a positive safe integer; `Number()` would take `true`, `[5]` or `0x10`. */
function positiveId(value: unknown): number | undefined {
  const id = typeof value === 'number' ? value : typeof value === 'string' && /^[1-9]\d{0,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}
