import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { PipedriveCompanyBudgetEntity } from '../database/pipedrive-company-budget.entity.js';
import { PIPEDRIVE_EVENTS, PipedriveEvents } from '../tokens/pipedrive-events.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveConnectionNotFoundError } from '../errors/pipedrive.errors.js';
import { TokenService } from '../tokens/token.service.js';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { PipedriveMetrics } from '../metrics/pipedrive-metrics.js';
import { BurstLimiters, SharedBurstWindow } from './burst-limiter.js';
import { CustomFieldDefinitions } from './custom-fields.js';
import { DailyBudget, type PipedriveBudgetState } from './daily-budget.js';
import type { RequestContext } from './execute-request.js';
import { HttpPools } from './http-transport.js';
import { PipedriveConnectionClient } from './pipedrive-connection.client.js';

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
    @InjectPipedriveClock() clock: PipedriveClock,
    @InjectRepository(PipedriveCompanyBudgetEntity) budgets: Repository<PipedriveCompanyBudgetEntity>,
    private readonly events: PipedriveEvents,
    metrics: PipedriveMetrics,
  ) {
    const { redis, redisKeyPrefix, redisTimeoutMs, dailyBudget, budgetWarningFractions } = options.client;
    const budget = new DailyBudget(
      clock,
      { dailyBudget, warningFractions: budgetWarningFractions },
      budgets,
      redis && { client: redis, keyPrefix: redisKeyPrefix },
      (caller, resetAt) =>
        events.emit({ type: PIPEDRIVE_EVENTS.budgetExhausted, ...caller, reason: 'budget_exhausted', resetAt: resetAt.toISOString() }),
    );
    this.context = {
      tokens,
      pools: new HttpPools(options.client.connectionsPerOrigin),
      limiters: new BurstLimiters(clock, redis && new SharedBurstWindow(redis, redisKeyPrefix, redisTimeoutMs)),
      budget,
      clock,
      options: options.client,
      metrics,
      fields: new CustomFieldDefinitions(clock, options.client.customFieldsTtlSeconds * 1000),
      onPaymentRequired: (id) => void this.paymentRequired(id),
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

  /**
   * A company's daily token budget as this app knows it: tokens spent today by every instance (by
   * Pipedrive's cost table), the configured budget, and until when Pipedrive refuses calls, if it does.
   */
  budget(companyId: number): Promise<PipedriveBudgetState> {
    return this.context.budget.state(companyId);
  }

  /** Closes the keep-alive pools. */
  async onModuleDestroy(): Promise<void> {
    this.context.limiters.close();
    await this.context.pools.close();
  }

  /** Emits `payment_required` without touching the connection: paying Pipedrive fixes it, reconnecting does not. */
  private async paymentRequired(connectionId: string): Promise<void> {
    const connection = await this.tokens.findConnection(connectionId).catch(() => null);
    if (!connection) return;
    const { companyId, userId } = connection;
    this.events.emit({ type: PIPEDRIVE_EVENTS.paymentRequired, connectionId, companyId, userId, reason: 'payment_required' });
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
