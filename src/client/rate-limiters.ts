import { ConnectionRateLimiter } from './rate-limiter.js';

/** One {@link ConnectionRateLimiter} per connection, forgotten once idle so memory follows active use. */
export class RateLimiters {
  private readonly limiters = new Map<string, ConnectionRateLimiter>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepIntervalMs = 30_000) {
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  get(connectionId: string): ConnectionRateLimiter {
    let limiter = this.limiters.get(connectionId);
    if (limiter === undefined) {
      limiter = new ConnectionRateLimiter();
      this.limiters.set(connectionId, limiter);
    }
    return limiter;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, limiter] of this.limiters) if (limiter.isIdle(now)) this.limiters.delete(id);
  }
}
