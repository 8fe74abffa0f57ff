import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Metadata, StateStoreStoreCallback, StateStoreVerifyCallback } from 'passport-oauth2';
import { LessThan, MoreThan, type Repository } from 'typeorm';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveOAuthStateEntity } from '../database/pipedrive-oauth-state.entity.js';
import { storageCall } from '../database/storage-call.js';
import { clearCookie, readCookie, writeCookie } from './cookies.js';

/** What the store hands to passport's `fail()` when a state is refused; the adapter turns it into a 403. */
export interface PipedriveStateFailure {
  code: 'invalid_state';
  message: string;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * passport-oauth2 state store without express-session. A state is 32 random bytes; the database
 * keeps only its sha256 (row id) with an expiry, and the browser keeps the state itself in an
 * httpOnly SameSite=Lax cookie. A callback passes only if its state matches that browser's cookie
 * and a conditional DELETE of the unexpired row removes exactly one row: single use across instances.
 * Implements passport-oauth2's `StateStore` in its `store(req, meta, cb)` / `verify(req, state, meta, cb)` forms.
 */
@Injectable()
export class PipedriveStateStore {
  private readonly logger = new Logger('PipedriveStateStore');
  private lastSweep = -Infinity;

  constructor(
    @InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions,
    @InjectRepository(PipedriveOAuthStateEntity) private readonly states: Repository<PipedriveOAuthStateEntity>,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
  ) {}

  /** Name of the cookie binding a pending state to the browser. */
  get cookieName(): string {
    return `${this.options.sessionCookieName}_state`;
  }

  // Arity matters: passport-oauth2 picks the call signature from `store.length` / `verify.length`.
  store(req: Request, _meta: Metadata, callback: StateStoreStoreCallback): void {
    this.issue(req).then(
      (state) => callback(null, state),
      (error: Error) => callback(error, undefined),
    );
  }

  verify(req: Request, state: string, _meta: Metadata, callback: StateStoreVerifyCallback): void {
    this.check(req, state).then(
      (failure) => callback(null, failure === undefined, failure),
      (error: Error) => callback(error, false, undefined),
    );
  }

  private async issue(req: Request): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    const ttl = this.options.stateTtlSeconds;
    const row = { id: digest(state), expiresAt: this.clock.now() + ttl * 1000 };
    await storageCall('store an OAuth state', () => this.states.insert(row));
    writeCookie(req.res!, this.cookieName, state, { secure: this.options.secureCookies, maxAge: ttl });
    this.sweep();
    return state;
  }

  /** undefined when the state is good (or absent and not required); the reason otherwise. */
  private async check(req: Request, state: unknown): Promise<PipedriveStateFailure | undefined> {
    const cookie = readCookie(req, this.cookieName);
    if (cookie !== undefined) clearCookie(req.res!, this.cookieName, this.options.secureCookies);
    if (state === undefined || state === '') {
      return this.options.requireState ? refuse('The callback carries no state; start the connection again.') : undefined;
    }
    if (typeof state !== 'string') return refuse('The callback carries a malformed state.');
    if (cookie === undefined) {
      return refuse('This browser did not start the connection (no state cookie, or it expired); start again.');
    }
    // Equal-length digests: the comparison time says nothing about either value.
    if (!timingSafeEqual(createHash('sha256').update(cookie).digest(), createHash('sha256').update(state).digest())) {
      return refuse('The state does not belong to this browser; start the connection again.');
    }
    const consumed = await storageCall('consume an OAuth state', () =>
      this.states.delete({ id: digest(state), expiresAt: MoreThan(this.clock.now()) }),
    );
    if (consumed.affected !== 1) return refuse('The state is unknown, already used or expired; start the connection again.');
    return undefined;
  }

  /** Expired rows are only garbage (the DELETE above ignores them); remove them now and then. */
  private sweep(): void {
    const now = this.clock.now();
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    const expired = () => this.states.delete({ expiresAt: LessThan(now) });
    storageCall('delete expired OAuth states', expired).catch((error: Error) => this.logger.warn(error.message));
  }
}

function digest(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

function refuse(message: string): PipedriveStateFailure {
  return { code: 'invalid_state', message };
}
