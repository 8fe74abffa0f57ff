import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  PipedriveClient,
  PipedriveConnectionNotFoundError,
  type PipedriveDeal,
  PipedriveError,
  PipedriveReauthorizationRequiredError,
  PipedriveSession,
} from '../../index.js';
import type { PipedriveEmulator } from '../../testing/index.js';
import { InjectSandboxEmulator } from '../sandbox/sandbox.module.js';
import { connectPage, homePage, troublePage } from './home.page.js';

/** Deals the page lists, newest first. */
const SHOWN_DEALS = 10;

/** The page a person opens: connect, see their account and deals, add one, disconnect. */
@Controller()
export class HomeController {
  constructor(
    private readonly session: PipedriveSession,
    private readonly pipedrive: PipedriveClient,
    @InjectSandboxEmulator() private readonly emulator: PipedriveEmulator | null,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  async home(@Req() request: Request, @Res() response: Response): Promise<void> {
    const session = await this.session.check(request);
    if (!session.ok) {
      if (session.reason === 'missing' || session.reason === 'invalid') return void response.type('html').send(connectPage());
      this.session.end(response);
      return void response.type('html').send(connectPage('Your Pipedrive connection has ended; connect again to continue.'));
    }
    const { connectionId } = session;
    const client = this.pipedrive.forConnection(connectionId);
    try {
      const [user, deals] = await Promise.all([client.users.me(), client.deals.all(undefined, { pageSize: 500 })]);
      const newest = [...deals].sort((a, b) => b.id - a.id).slice(0, SHOWN_DEALS);
      response.type('html').send(
        homePage({
          user,
          deals: newest,
          totalDeals: deals.length,
          panelDemoUrl: this.panelDemoUrl(request, user.company_id, user.id, newest[0]),
        }),
      );
    } catch (error) {
      if (error instanceof PipedriveReauthorizationRequiredError || error instanceof PipedriveConnectionNotFoundError) {
        this.session.end(response);
        return void response.type('html').send(connectPage('Your Pipedrive connection has ended; connect again to continue.'));
      }
      if (!(error instanceof PipedriveError)) throw error;
      // The library's messages hold no tokens; a person is better served by the reason than by a bare 502.
      response.status(502).type('html').send(troublePage(error.message));
    }
  }

  /** In the sandbox, the emulator's host page framing this app's deal panel, as Pipedrive would. */
  private panelDemoUrl(request: Request, companyId: number, userId: number, deal: PipedriveDeal | undefined): string | undefined {
    if (!this.emulator || !deal) return undefined;
    const appUrl = `${request.protocol}://${request.get('host')}/extensions/deal-panel`;
    return this.emulator.extensions.hostUrl({ appUrl, companyId, userId, resource: 'deal', selectedIds: [deal.id] });
  }
}
