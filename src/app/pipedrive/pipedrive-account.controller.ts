import { Body, Controller, Get, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { PipedriveAuthException, PipedriveConnectionId, PipedriveSessionGuard } from '../../index.js';
import { parseCreateDeal } from './create-deal.dto.js';
import { PipedriveAccountService } from './pipedrive-account.service.js';

/** Routes that act as the signed-in user's Pipedrive connection (named by the session cookie). */
@Controller('pipedrive')
@UseGuards(PipedriveSessionGuard)
export class PipedriveAccountController {
  constructor(private readonly account: PipedriveAccountService) {}

  @Get('me')
  me(@PipedriveConnectionId() connectionId: string) {
    return this.account.me(connectionId);
  }

  @Get('deals')
  deals(@PipedriveConnectionId() connectionId: string) {
    return this.account.allDeals(connectionId);
  }

  @Post('deals')
  @HttpCode(201)
  createDeal(
    @PipedriveConnectionId() connectionId: string,
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
  ) {
    // JSON only: a form or text/plain body is what a cross-site <form> can send without a preflight.
    if (contentType?.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
      throw PipedriveAuthException.of(415, 'unsupported_media_type', 'Send the deal as JSON (Content-Type: application/json).');
    }
    return this.account.createDeal(connectionId, parseCreateDeal(body));
  }

  @Get('leads')
  leads(@PipedriveConnectionId() connectionId: string) {
    return this.account.allLeads(connectionId);
  }
}
