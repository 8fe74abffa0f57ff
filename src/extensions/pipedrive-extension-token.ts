import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { InjectPipedriveExtensionsOptions } from './pipedrive-extensions.constants.js';
import type { ResolvedPipedriveExtensionsOptions } from './pipedrive-extensions.options.js';

/** The claims of a verified extension token that this library relies on. */
export interface PipedriveExtensionClaims {
  companyId: number;
  userId: number;
  /** Epoch seconds. */
  exp: number;
  iat?: number;
}

/** The whole payload as Pipedrive signed it, for claims this library does not read. */
export type PipedriveExtensionPayload = JWTPayload & Record<string, unknown>;

/** Pipedrive signs extension tokens with HMAC-SHA256 only; any other `alg` is refused. */
const ALGORITHMS = ['HS256'];

const refuse = (error: string, message: string): PipedriveAuthException => PipedriveAuthException.of(401, error, message);

/**
 * Reads and verifies the JWT Pipedrive gives an extension: from `Authorization: Bearer` (the
 * iframe's calls with a `get_signed_token` token) or the `token` query parameter (pages, JSON panels).
 * Signature, `exp` and `nbf` are checked by jose against the injected clock, with the configured leeway.
 * Every refusal is a 401 {@link PipedriveAuthException} whose message never quotes the token.
 */
@Injectable()
export class PipedriveExtensionTokenVerifier {
  private readonly key: Uint8Array;

  constructor(
    @InjectPipedriveOptions() pipedrive: ResolvedPipedriveOptions,
    @InjectPipedriveExtensionsOptions() private readonly options: ResolvedPipedriveExtensionsOptions,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
  ) {
    this.key = new TextEncoder().encode(options.jwtSecret ?? pipedrive.clientSecret);
  }

  /** The token of the request: the Bearer header first, else the `token` query parameter. */
  read(request: IncomingMessage): string {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer +([^\s]+)\s*$/i.exec(header);
      if (!match) throw refuse('invalid_extension_token', 'The Authorization header must be "Bearer <extension token>".');
      return match[1]!;
    }
    const token = new URL(request.url ?? '/', 'http://request.invalid').searchParams.getAll('token');
    if (token.length === 0 || !token[0]) {
      throw refuse(
        'extension_token_required',
        'No Pipedrive extension token: open this page from Pipedrive, or send Authorization: Bearer <token from get_signed_token>.',
      );
    }
    if (token.length > 1) throw refuse('invalid_extension_token', 'The token query parameter must be given once.');
    return token[0];
  }

  /** Verifies the token and returns its claims and whole payload. */
  async verify(token: string): Promise<{ claims: PipedriveExtensionClaims; payload: PipedriveExtensionPayload }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
        clockTolerance: this.options.clockToleranceSeconds,
        currentDate: new Date(this.clock.now()),
      }));
    } catch (error) {
      throw describeFailure(error);
    }
    const companyId = positiveId(payload.companyId);
    const userId = positiveId(payload.userId);
    if (companyId === undefined || userId === undefined) {
      throw refuse('invalid_extension_token', 'The extension token names no valid companyId and userId.');
    }
    return { claims: { companyId, userId, exp: payload.exp!, iat: payload.iat }, payload: payload as PipedriveExtensionPayload };
  }
}

function describeFailure(error: unknown): PipedriveAuthException {
  if (error instanceof errors.JWTExpired) {
    return refuse(
      'extension_token_expired',
      'The extension token has expired; get a fresh one with get_signed_token or reload the page in Pipedrive.',
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') {
    return refuse('extension_token_not_yet_valid', 'The extension token is not valid yet.');
  }
  // Bad signature, wrong algorithm, malformed token, missing exp: one answer, so nothing is learnt by probing.
  return refuse('invalid_extension_token', 'The extension token is invalid.');
}

/** Pipedrive's ids are positive integers; accept them as numbers or digit strings. */
export function positiveId(value: unknown): number | undefined {
  const id = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}
