import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveConnectionNotFoundError } from '../errors/pipedrive.errors.js';
import { TokenService } from '../tokens/token.service.js';
import { HttpPools } from './http-pools.js';
import { PipedriveConnectionClient } from './pipedrive-connection.client.js';
import { RateLimiters } from './rate-limiters.js';
import type { RequestContext } from './request-context.js';

/** Most (company, user) -> connection id lookups kept; ids never change for a pair. */
const USER_CACHE_SIZE = 10_000;

/**
 * Calls Pipedrive as a stored connection. Inject it and ask for a client per connection:
 * `pipedrive.forConnection(id).deals.get(42)`. Holds one keep-alive pool per api_domain and one
 * rate limiter per connection, shared by every bound client; closed with the module.
 */
@Injectable()
export class PipedriveClient implements OnModuleDestroy {
  private readonly context: RequestContext;
  private readonly connectionIds = new Map<string, string>();

  constructor(
    private readonly tokens: TokenService,
    @InjectPipedriveOptions() options: ResolvedPipedriveOptions,
  ) {
    this.context = {
      tokens,
      pools: new HttpPools(options.client.connectionsPerOrigin),
      limiters: new RateLimiters(),
      options: options.client,
    };
  }

  /** A client acting as the connection with this id. */
  forConnection(connectionId: string): PipedriveConnectionClient {
    return new PipedriveConnectionClient(this.context, connectionId);
  }

  /**
   * A client acting as this Pipedrive user of this company. The connection is looked up on the first
   * call, which fails with PipedriveConnectionNotFoundError if the user never connected.
   */
  forUser(companyId: number, userId: number): PipedriveConnectionClient {
    return new PipedriveConnectionClient(this.context, () => this.lookUp(companyId, userId));
  }

  /** Closes the keep-alive pools. */
  async onModuleDestroy(): Promise<void> {
    this.context.limiters.close();
    await this.context.pools.close();
  }

  private async lookUp(companyId: number, userId: number): Promise<string> {
    const key = `${companyId}:${userId}`;
    const cached = this.connectionIds.get(key);
    if (cached !== undefined) return cached;
    const connection = await this.tokens.findConnectionByUser(companyId, userId);
    if (!connection) throw new PipedriveConnectionNotFoundError(`company ${companyId}, user ${userId}`);
    if (this.connectionIds.size >= USER_CACHE_SIZE) this.connectionIds.delete(this.connectionIds.keys().next().value!);
    this.connectionIds.set(key, connection.id);
    return connection.id;
  }
}
