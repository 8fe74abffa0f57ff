import { Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

/** Event names, also used on `EventEmitter2` when the app has `EventEmitterModule`. */
export const PIPEDRIVE_EVENTS = {
  created: 'pipedrive.connection.created',
  /** A known (company, user) pair authorized again; its row was updated. */
  reauthorized: 'pipedrive.connection.reauthorized',
  refreshed: 'pipedrive.connection.refreshed',
  reauthorizationRequired: 'pipedrive.connection.reauthorization_required',
  revoked: 'pipedrive.connection.revoked',
  /** Pipedrive's daily token budget of the company is spent; once per exhaustion across instances. */
  budgetExhausted: 'pipedrive.company.budget_exhausted',
} as const;

/** The name of a connection event. */
export type PipedriveEventType = (typeof PIPEDRIVE_EVENTS)[keyof typeof PIPEDRIVE_EVENTS];

/** Payload of every connection event. Never carries tokens. */
export interface PipedriveConnectionEvent {
  type: PipedriveEventType;
  connectionId: string;
  companyId: number;
  userId: number;
  /** e.g. `invalid_grant`, `disconnected`, `uninstalled`, `expired`, `refresh_ahead`, `rejected`, `budget_exhausted`. */
  reason?: string;
  /** `budget_exhausted` only: when the company's budget returns, ISO 8601. The connection is the one whose call met it. */
  resetAt?: string;
}

/** A listener of `PipedriveEvents.on`; a failure is logged and does not break token handling. */
export type PipedriveEventListener = (event: PipedriveConnectionEvent) => void | Promise<void>;

interface Emitter {
  emit(event: string, payload: unknown): unknown;
}

/**
 * Connection lifecycle events. Subscribe with `on()`; apps using `@nestjs/event-emitter` also get
 * them on `EventEmitter2` (an optional peer, so it is looked up at runtime, never imported statically).
 * A failing listener is logged and ignored: events must not break token handling.
 */
@Injectable()
export class PipedriveEvents implements OnModuleInit {
  private readonly logger = new Logger('PipedriveEvents');
  private readonly listeners = new Set<PipedriveEventListener>();
  private emitter: Emitter | undefined;
  private lookup: Promise<void> | undefined;

  constructor(@Optional() private readonly moduleRef?: ModuleRef) {}

  /** Finds `EventEmitter2` when the app imports `EventEmitterModule`. */
  async onModuleInit(): Promise<void> {
    await this.findEmitter();
  }

  /** Calls `listener` for every event; returns the function that unsubscribes it. */
  on(listener: PipedriveEventListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Sends an event to the listeners and to `EventEmitter2`; a failing listener is logged. */
  emit(event: PipedriveConnectionEvent): void {
    for (const listener of [...this.listeners]) this.guard(event, () => listener(event));
    if (this.emitter) this.guard(event, () => this.emitter!.emit(event.type, event));
    else void this.findEmitter().then(() => this.emitter && this.guard(event, () => this.emitter!.emit(event.type, event)));
  }

  private guard(event: PipedriveConnectionEvent, call: () => unknown): void {
    const fail = (error: unknown) =>
      this.logger.error(`Listener of ${event.type} failed: ${(error as Error)?.name ?? 'Error'}`, (error as Error)?.stack);
    try {
      const result = call();
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  }

  private findEmitter(): Promise<void> {
    this.lookup ??= (async () => {
      if (!this.moduleRef) return;
      try {
        const { EventEmitter2 } = await import('@nestjs/event-emitter');
        this.emitter = this.moduleRef.get(EventEmitter2, { strict: false });
      } catch {
        // @nestjs/event-emitter is not installed or EventEmitterModule is not imported.
      }
    })();
    return this.lookup;
  }
}
