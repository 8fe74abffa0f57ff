import { Pool } from 'undici';
import { PipedriveError } from '../errors/pipedrive.errors.js';

/** One keep-alive undici Pool per Pipedrive origin (each company has its own api_domain). */
export class HttpPools {
  private readonly byDomain = new Map<string, Pool>();
  private readonly byOrigin = new Map<string, Pool>();
  private closed = false;

  constructor(private readonly connectionsPerOrigin: number) {}

  /** The pool for an api_domain such as `https://acme.pipedrive.com`. */
  get(apiDomain: string): Pool {
    return this.byDomain.get(apiDomain) ?? this.create(apiDomain);
  }

  /** Waits for requests in flight, then closes every connection; later requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.byOrigin.values()];
    this.byDomain.clear();
    this.byOrigin.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  private create(apiDomain: string): Pool {
    if (this.closed) throw new PipedriveError('PipedriveClient is closed: its module was destroyed.');
    const origin = new URL(apiDomain).origin;
    let pool = this.byOrigin.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, { connections: this.connectionsPerOrigin });
      this.byOrigin.set(origin, pool);
    }
    this.byDomain.set(apiDomain, pool);
    return pool;
  }
}
