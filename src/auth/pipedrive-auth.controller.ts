import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { PipedriveExceptionFilter } from '../errors/pipedrive-exception.filter.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import type { PipedriveConnection } from '../tokens/pipedrive-token.types.js';
import { TokenService } from '../tokens/token.service.js';
import { PipedriveConnectService } from './pipedrive-connect.service.js';
import { PipedriveConnectionId } from './pipedrive-connection-id.decorator.js';
import { PipedriveSession } from './pipedrive-session.js';
import { PipedriveSessionGuard } from './pipedrive-session.guard.js';
import { PipedriveUninstallGuard } from './pipedrive-uninstall.guard.js';
import { parseUninstallBody } from './uninstall-request.js';

/** What the callback answers: the connection without any token. */
export interface PipedriveConnectedBody {
  companyId: number;
  userId: number;
  apiDomain: string;
  scopes: string[];
  status: PipedriveConnection['status'];
}

/**
 * The OAuth routes at `/auth/pipedrive` (mounted by `PipedriveAuthModule` unless `controller: false`):
 * - `GET /auth/pipedrive`: 302 to Pipedrive's authorize page (400 `invalid_request` if it carries a
 *   `code` or `error`: only the callback completes a flow).
 * - `GET /auth/pipedrive/callback`: stores the connection, sets the session cookie, answers
 *   {@link PipedriveConnectedBody} (or redirects to `successRedirect`, or a browser to `browserSuccessRedirect`);
 *   see {@link PipedriveConnectService.complete}.
 * - `DELETE /auth/pipedrive/callback`: Pipedrive's uninstall call (HTTP Basic client credentials).
 * - `POST /auth/pipedrive/disconnect`: revokes the session's connection at Pipedrive and ends the session.
 *
 * To run your own code once a user has connected, extend it, override {@link onConnected}, decorate
 * the subclass with `@Controller('auth/pipedrive')` and register it with `controller: false`.
 * For side effects elsewhere, listen to `pipedrive.connection.created` on PipedriveEvents: events are
 * notifications, not awaited, so `onConnected` is the place for work the answer must wait for.
 */
@Controller('auth/pipedrive')
@UseFilters(PipedriveExceptionFilter)
export class PipedriveAuthController {
  constructor(
    @InjectPipedriveOptions() protected readonly options: ResolvedPipedriveOptions,
    protected readonly tokens: TokenService,
    protected readonly session: PipedriveSession,
    protected readonly connect: PipedriveConnectService,
  ) {}

  /** Sends the browser to Pipedrive's authorize page. */
  @Get()
  async authorize(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.connect.start(request, response);
  }

  /** Pipedrive sends the browser here with `code` and `state` (or `error`). */
  @Get('callback')
  async callback(@Req() request: Request, @Res() response: Response): Promise<void> {
    const connection = await this.connect.complete(request, response, (connected) => this.onConnected(connected, request));
    if (this.options.successRedirect) return response.redirect(302, this.options.successRedirect);
    if (this.options.browserSuccessRedirect && request.accepts(['application/json', 'text/html']) === 'text/html') {
      return response.redirect(302, this.options.browserSuccessRedirect);
    }
    const { companyId, userId, apiDomain, scopes, status } = connection;
    response.status(200).json({ companyId, userId, apiDomain, scopes, status } satisfies PipedriveConnectedBody);
  }

  /** Pipedrive's uninstall notice: erases that user's tokens. */
  @Delete('callback')
  @HttpCode(200)
  @UseGuards(PipedriveUninstallGuard)
  async uninstall(@Body() body: unknown): Promise<{ status: 'uninstalled' }> {
    const parsed = parseUninstallBody(body, this.options.clientId);
    if (!parsed.ok) {
      throw parsed.reason === 'client_mismatch'
        ? PipedriveAuthException.of(401, 'invalid_client', parsed.message)
        : PipedriveAuthException.of(400, 'invalid_body', parsed.message);
    }
    await this.tokens.uninstall(parsed.request.companyId, parsed.request.userId);
    return { status: 'uninstalled' };
  }

  /** Revokes the connection at Pipedrive, erases its tokens and clears the session cookie. */
  @Post('disconnect')
  @HttpCode(200)
  @UseGuards(PipedriveSessionGuard)
  async disconnect(
    @PipedriveConnectionId() connectionId: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<{ status: 'revoked' }> {
    await this.tokens.disconnect(connectionId);
    this.session.end(response);
    return { status: 'revoked' };
  }

  /**
   * Runs after the connection is stored and before the browser gets its answer (and session cookie).
   * Override it to provision the account, link it to your user, etc. Throwing fails the request with
   * that error; the connection stays stored (the user can simply connect again).
   * @default does nothing
   */
  protected async onConnected(_connection: PipedriveConnection, _request: Request): Promise<void> {}
}
