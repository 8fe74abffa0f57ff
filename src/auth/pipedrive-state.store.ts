import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Metadata, StateStoreStoreCallback, StateStoreVerifyCallback } from 'passport-oauth2';
import { LessThan, type Repository } from 'typeorm';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveOAuthStateEntity } from '../database/pipedrive-oauth-state.entity.js';
import { storageCall } from '../database/storage-call.js';
import { clearCookie, cookieName, readCookie, writeCookie } from './cookies.js';

/** What the store hands to passport's `fail()` when a state is refused; the adapter turns it into a 403. */
export interface PipedriveStateFailure {
  code: 'invalid_state';
  message: string;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * passport-oauth2 state store without express-session, and without a database write per start: a
 * state is `nonce.expiry.mac`, signed with a key derived from `sessionSecret`, and the browser keeps
 * it in an httpOnly SameSite=Lax cookie. So an unauthenticated flood of the start route costs CPU
 * only, never a row or SQLite's single writer. A callback passes only if its state matches that
 * browser's cookie, carries a good signature and has not expired; only then is its sha256 recorded,
 * as consumed (an INSERT on the primary key: single use across instances). Consumed rows are kept
 * until the state would have expired, then swept.
 * Implements passport-oauth2's `StateStore` in its `store(req, meta, cb)` / `verify(req, state, meta, cb)` forms.
 */
@Injectable()
export class PipedriveStateStore {
  private readonly logger = new Logger('PipedriveStateStore');
  private lastSweep = -Infinity;
  private readonly signingKey: Buffer;

  constructor(
    @InjectPipedriveOptions()
    private readonly options: ResolvedPipedriveOptions,
    @InjectRepository(PipedriveOAuthStateEntity)
    private readonly states: Repository<PipedriveOAuthStateEntity>,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
  ) {
    // A key of its own: a state MAC can never be replayed as a session signature or the reverse.
    this.signingKey = createHash('sha256').update('nestjs-pipedrive/oauth-state/v1\0').update(options.sessionSecret).digest();
  }

  /** Name of the cookie binding a pending state to the browser. */
  get cookieName(): string {
    return cookieName(`${this.options.sessionCookieName}_state`, this.options.secureCookies);
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
    const ttl = this.options.stateTtlSeconds;
    const body = `${randomBytes(24).toString('base64url')}.${(this.clock.now() + ttl * 1000).toString(36)}`;
    const state = `${body}.${this.mac(body)}`;
    writeCookie(req.res!, this.cookieName, state, {
      secure: this.options.secureCookies,
      maxAge: ttl,
    });
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
    const expiresAt = this.signedExpiry(state);
    if (expiresAt === undefined || expiresAt <= this.clock.now()) {
      return refuse('The state is unknown or expired; start the connection again.');
    }
    this.sweep();
    const row = { id: digest(state), expiresAt };
    const fresh = await storageCall('consume an OAuth state', async () => {
      try {
        await this.states.insert(row);
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    });
    return fresh ? undefined : refuse('The state was already used; start the connection again.');
  }

  /** Expiry (epoch ms) of a state this store signed, or undefined for anything else. */
  private signedExpiry(state: string): number | undefined {
    const parts = state.split('.');
    if (parts.length !== 3 || parts[0].length !== 32 || !/^[0-9a-z]{1,12}$/.test(parts[1])) return undefined;
    const given = Buffer.from(parts[2], 'base64url');
    const expected = Buffer.from(this.mac(`${parts[0]}.${parts[1]}`), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return parseInt(parts[1], 36);
  }

  private mac(body: string): string {
    return createHmac('sha256', this.signingKey).update(body).digest('base64url');
  }

  /** Consumed states past their expiry can no longer be replayed (the signature says expired); remove them now and then. */
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

/** A duplicate primary key: SQLite's SQLITE_CONSTRAINT(_PRIMARYKEY), PostgreSQL's 23505. */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = String(e?.driverError?.code ?? e?.code ?? '');
  return code === '23505' || code.startsWith('SQLITE_CONSTRAINT');
}

function refuse(message: string): PipedriveStateFailure {
  return { code: 'invalid_state', message };
}
