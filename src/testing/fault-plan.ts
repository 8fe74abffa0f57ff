import type {
  PipedriveEmulatorApiFault,
  PipedriveEmulatorApiFaultOptions,
  PipedriveEmulatorFaults,
  PipedriveEmulatorForcedRateLimit,
  PipedriveEmulatorTokenFault,
} from './emulator.types.js';
import { FaultQueue } from './fault-queue.js';

export type TokenGrantType = 'authorization_code' | 'refresh_token';

/** A forced API answer: an error status, a dropped connection, or a 429. */
export type ApiFault =
  | { kind: 'status'; status: number; options: PipedriveEmulatorApiFaultOptions }
  | { kind: 'reset' }
  | { kind: 'rate_limit'; options: PipedriveEmulatorForcedRateLimit };

/** Everything armed to go wrong: latencies and the next failing answers per endpoint. */
export class FaultPlan {
  readonly latency: PipedriveEmulatorFaults = { tokenLatencyMs: 0, apiLatencyMs: 0, revokeLatencyMs: 0 };
  readonly token = new FaultQueue<PipedriveEmulatorTokenFault, TokenGrantType>();
  readonly revoke = new FaultQueue<PipedriveEmulatorApiFault>();
  readonly api = new FaultQueue<ApiFault>();

  armApi(count: number, fault: PipedriveEmulatorApiFault, options: PipedriveEmulatorApiFaultOptions = {}): void {
    this.api.arm(count, fault === 'reset' ? { kind: 'reset' } : { kind: 'status', status: fault, options });
  }

  armRateLimit(count: number, options: PipedriveEmulatorForcedRateLimit = {}): void {
    this.api.arm(count, { kind: 'rate_limit', options });
  }

  takeToken(grant: TokenGrantType | undefined): PipedriveEmulatorTokenFault | undefined {
    return this.token.take((only) => only === grant);
  }
}
