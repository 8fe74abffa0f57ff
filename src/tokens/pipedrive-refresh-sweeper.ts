import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import { PIPEDRIVE_OPTION_DEFAULTS, type ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveError, PipedriveReauthorizationRequiredError, PipedriveTokenEndpointError } from '../errors/pipedrive.errors.js';
import { ConnectionStore } from '../database/connection.store.js';
import type { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import { TokenService } from './token.service.js';

/** Refreshes running at once in one sweep: enough to overlap Pipedrive's latency, few enough to be gentle. */
const CONCURRENCY = 4;

const DAY_MS = 86_400_000;

/** What one sweep did, connection by connection. */
export interface PipedriveSweepSummary {
  /** Refreshed by this instance. */
  refreshed: number;
  /** No longer due, backing off, or being refreshed by another instance (never waited for). */
  skipped: number;
  /** The refresh failed (Pipedrive unreachable, database, undecryptable); transient ones back off. */
  failed: number;
  /** Pipedrive refused the refresh token: marked, and `pipedrive.connection.reauthorization_required` emitted. */
  reauthorizationRequired: number;
}

/**
 * The `refreshSweep` option: every `intervalSeconds`, refreshes up to `batchSize` due connections that
 * are in use (a token handed out since it was issued, by any instance: the row's `last_used_at`),
 * expiring first, then up to `batchSize` idle connections whose token is `keepAliveDays` old, so
 * Pipedrive never drops their refresh token (60 days unused) and an idle connection costs one refresh
 * per `keepAliveDays`, not one per access-token lifetime. All through TokenService, so the row's
 * refresh lease keeps several instances from refreshing one connection twice. Off unless the option
 * is set; `sweep()` runs one pass on demand. The interval is waited on the injected
 * {@link PipedriveClock}, counted from the end of the previous pass, so passes never overlap.
 */
@Injectable()
export class PipedriveRefreshSweeper implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('PipedriveRefreshSweeper');
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private running: Promise<PipedriveSweepSummary> | undefined;

  constructor(
    @InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions,
    private readonly store: ConnectionStore,
    private readonly tokens: TokenService,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
  ) {}

  /** Starts the timer when `refreshSweep` is set. */
  onApplicationBootstrap(): void {
    const interval = this.options.refreshSweep?.intervalSeconds;
    if (interval === undefined || this.loop || this.stopping.signal.aborted) return;
    this.loop = this.every(interval * 1000);
  }

  /** Stops the timer and waits for a running pass. */
  onModuleDestroy(): Promise<void> {
    return this.stop();
  }

  /** Stops the timer and waits for a running pass. */
  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /**
   * One pass now: refreshes up to `batchSize` due connections, a few at a time. Connections another
   * instance is refreshing are skipped. While a pass runs, calling again joins it.
   * @throws PipedriveStorageError when the due connections cannot be read; a failing row only counts in `failed`.
   */
  sweep(): Promise<PipedriveSweepSummary> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async every(intervalMs: number): Promise<void> {
    const { signal } = this.stopping;
    for (;;) {
      // ref: false: a pending sweep alone must not keep the process alive.
      const woke = await this.clock.sleep(intervalMs, signal, { ref: false }).then(
        () => true,
        () => false,
      );
      if (!woke) return;
      try {
        this.report(await this.sweep());
      } catch (error) {
        this.logger.error(`Refresh sweep failed: ${describe(error)}`);
      }
    }
  }

  private async run(): Promise<PipedriveSweepSummary> {
    const summary: PipedriveSweepSummary = { refreshed: 0, skipped: 0, failed: 0, reauthorizationRequired: 0 };
    const sweep = { ...PIPEDRIVE_OPTION_DEFAULTS.refreshSweep, ...this.options.refreshSweep };
    const now = this.clock.now();
    const due = await this.store.findDue(now, this.options.refreshMarginSeconds * 1000, sweep.batchSize);
    const ids = new Set(due.map((row) => row.id));
    for (const row of await this.store.findIdle(now, now - sweep.keepAliveDays * DAY_MS, sweep.batchSize)) {
      if (!ids.has(row.id)) due.push(row);
    }
    let next = 0;
    const worker = async () => {
      // Stopping leaves the rest for the next start, or for another instance.
      while (next < due.length && !this.stopping.signal.aborted) summary[await this.refreshOne(due[next++])]++;
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker));
    return summary;
  }

  private async refreshOne(row: PipedriveConnectionEntity): Promise<keyof PipedriveSweepSummary> {
    const id = row.id;
    try {
      return (await this.tokens.refreshIfDue(row)) ? 'refreshed' : 'skipped';
    } catch (error) {
      if (error instanceof PipedriveReauthorizationRequiredError && error.reason === 'invalid_grant') {
        return 'reauthorizationRequired';
      }
      // Failures at the token endpoint were logged, with their back-off, by the refresh itself.
      if (!(error instanceof PipedriveTokenEndpointError)) {
        this.logger.warn(`Refresh sweep: connection ${id} failed: ${describe(error)}`);
      }
      return 'failed';
    }
  }

  private report(summary: PipedriveSweepSummary): void {
    const { refreshed, skipped, failed, reauthorizationRequired } = summary;
    const line = `Refresh sweep: ${refreshed} refreshed, ${skipped} skipped, ${failed} failed, ${reauthorizationRequired} need re-authorization`;
    if (refreshed + skipped + failed + reauthorizationRequired === 0) this.logger.debug(line);
    else this.logger.log(line);
  }

  /** Stops the loop and waits for the refreshes already running, before the DataSource closes. */
  private async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.running?.catch(() => undefined);
  }
}

/** The library's messages carry no secret by design; any other error is named only. */
function describe(error: unknown): string {
  if (error instanceof PipedriveError) return `${error.name}: ${error.message}`;
  return (error as Error)?.name ?? 'Error';
}
