/**
 * The part of a token's burst limit one app instance lets itself use. All of it until a 429 shows
 * another instance on the same token (this one's pacing alone never provokes one); then halved, at most
 * once per window, and grown back by a tenth of the limit per window once a whole window has passed
 * without a 429. Instances sharing a token so settle near a fair split instead of colliding every window.
 */
export class BurstShare {
  private value = 0;
  private limit = 0;
  private shrunkAt = -Infinity;
  private grownAt = -Infinity;

  constructor(private readonly windowMs: number) {}

  /** The share at `now`, grown back if it is time. */
  current(now: number): number {
    if (this.value < this.limit && now - this.shrunkAt >= 2 * this.windowMs && now - this.grownAt >= this.windowMs) {
      this.value = Math.min(this.limit, this.value + Math.max(1, Math.floor(this.limit / 10)));
      this.grownAt = now;
    }
    return this.value;
  }

  /** Pipedrive told the limit; a new one resets the share. */
  setLimit(limit: number): void {
    if (limit !== this.limit) this.value = limit;
    this.limit = limit;
  }

  /** Pipedrive refused a request we believed within the limit. */
  shrink(now: number): void {
    if (this.limit === 0 || now - this.shrunkAt < this.windowMs) return;
    this.value = Math.max(1, Math.floor(this.value / 2));
    this.shrunkAt = now;
  }
}
