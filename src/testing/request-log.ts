import type { IncomingHttpHeaders } from 'node:http';
import type { PipedriveEmulatorCounts, PipedriveEmulatorRequest } from './emulator.types.js';

const SECRET_PARAMS = new Set(['code', 'api_token', 'access_token', 'refresh_token', 'token', 'client_secret']);

/** Counters and the bounded log of recent requests; token values never enter it. */
export class RequestLog {
  readonly counts: PipedriveEmulatorCounts = zeroCounts();
  readonly requests: PipedriveEmulatorRequest[] = [];

  constructor(private readonly max: number) {}

  open(method: string, path: string, search: string, headers: IncomingHttpHeaders, at: number): PipedriveEmulatorRequest {
    const contentType = headers['content-type'];
    const entry: PipedriveEmulatorRequest = { method, path, query: {}, contentType, auth: authKind(headers.authorization), status: 0, at };
    if (this.max <= 0) return entry;
    if (search) entry.query = redactedQuery(search);
    // Trimming in batches keeps the push O(1) amortised under benchmark load.
    if (this.requests.push(entry) > this.max * 2) this.requests.splice(0, this.requests.length - this.max);
    return entry;
  }

  reset(): void {
    Object.assign(this.counts, zeroCounts());
    this.requests.length = 0;
  }
}

function zeroCounts(): PipedriveEmulatorCounts {
  return { authorizationCode: 0, refreshToken: 0, revoke: 0, api: 0, rateLimited: 0, tokenErrors: 0 };
}

function authKind(header: string | undefined): PipedriveEmulatorRequest['auth'] {
  const scheme = header?.slice(0, 7).toLowerCase();
  if (scheme === 'bearer ') return 'bearer';
  if (scheme?.startsWith('basic ')) return 'basic';
  return 'none';
}

function redactedQuery(search: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(search)) query[key] = SECRET_PARAMS.has(key) ? '[redacted]' : value;
  return query;
}
