import { setMaxListeners } from 'node:events';
import type { PipedriveClock } from '../pipedrive.clock.js';
import { PipedriveEmulatorError } from './emulator.errors.js';
import type { PipedriveEmulatorLatency } from './emulator.options.js';
import type {
  PipedriveEmulatorApiFault,
  PipedriveEmulatorApiFaultOptions,
  PipedriveEmulatorForcedRateLimit,
  PipedriveEmulatorTokenFault,
} from './emulator.types.js';

export type TokenGrantType = 'authorization_code' | 'refresh_token';

/** A forced API answer: an error status, a dropped connection, or a 429. */
export type ApiFault =
  | { kind: 'status'; status: number; options: PipedriveEmulatorApiFaultOptions }
  | { kind: 'reset' }
  | { kind: 'rate_limit'; options: PipedriveEmulatorForcedRateLimit };

/**
 * Everything armed to go wrong: the next failing answers per endpoint, and latencies. Latency waits
 * on the emulator's clock, so with a `ManualClock` an answer is held until the test advances time.
 */
export class FaultPlan {
  readonly token = new FaultQueue<PipedriveEmulatorTokenFault, TokenGrantType>();
  readonly revoke = new FaultQueue<PipedriveEmulatorApiFault>();
  readonly api = new FaultQueue<ApiFault>();
  private latency: Required<PipedriveEmulatorLatency> = { tokenMs: 0, apiMs: 0, revokeMs: 0 };
  private readonly closing = new AbortController();

  constructor(
    private readonly clock: PipedriveClock,
    private readonly initialLatency: PipedriveEmulatorLatency = {},
  ) {
    // Every held answer listens for the close; a refresh storm holds a thousand at once.
    setMaxListeners(0, this.closing.signal);
    this.setLatency(initialLatency);
  }

  setLatency(latency: PipedriveEmulatorLatency): void {
    for (const [key, ms] of Object.entries(latency)) {
      if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0)) throw new PipedriveEmulatorError(`latency.${key} must be a number >= 0.`);
    }
    this.latency = { ...this.latency, ...latency };
  }

  armApi(count: number, fault: PipedriveEmulatorApiFault, options: PipedriveEmulatorApiFaultOptions = {}): void {
    this.api.arm(count, fault === 'reset' ? { kind: 'reset' } : { kind: 'status', status: fault, options });
  }

  armRateLimit(count: number, options: PipedriveEmulatorForcedRateLimit = {}): void {
    this.api.arm(count, { kind: 'rate_limit', options });
  }

  takeToken(grant: TokenGrantType | undefined): PipedriveEmulatorTokenFault | undefined {
    return this.token.take((only) => only === grant);
  }

  /** Runs `answer` after this endpoint's latency; answers still held when the emulator closes are dropped. */
  delay(endpoint: keyof PipedriveEmulatorLatency, answer: () => void): void {
    const ms = this.latency[endpoint];
    if (!(ms > 0)) return answer();
    this.clock.sleep(ms, this.closing.signal).then(answer, () => undefined);
  }

  /** Disarms every fault and restores the start latencies. */
  reset(): void {
    this.token.clear();
    this.revoke.clear();
    this.api.clear();
    this.latency = { tokenMs: 0, apiMs: 0, revokeMs: 0 };
    this.setLatency(this.initialLatency);
  }

  /** Drops every answer still held by latency. */
  close(): void {
    this.closing.abort();
  }
}

interface Entry<T, F> {
  remaining: number;
  fault: T;
  filter?: F;
}

/** Faults armed for the next N matching requests; taken in the order they were armed. */
class FaultQueue<T, F = undefined> {
  private readonly entries: Array<Entry<T, F>> = [];

  arm(count: number, fault: T, filter?: F): void {
    if (count > 0) this.entries.push({ remaining: count, fault, filter });
  }

  /** The fault for this request, consumed; `matches` decides whether a filtered entry applies. */
  take(matches?: (filter: F) => boolean): T | undefined {
    if (this.entries.length === 0) return undefined;
    const index = this.entries.findIndex((e) => e.filter === undefined || (matches?.(e.filter) ?? false));
    if (index < 0) return undefined;
    const entry = this.entries[index]!;
    if (--entry.remaining === 0) this.entries.splice(index, 1);
    return entry.fault;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
