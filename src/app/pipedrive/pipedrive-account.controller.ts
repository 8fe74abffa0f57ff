import { Body, Controller, Get, Headers, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { PipedriveAuthException, PipedriveConnectionId, PipedriveSessionGuard } from '../../index.js';
import { parseCreateDeal } from './create-deal.dto.js';
import { parseListQuery } from './list-query.dto.js';
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

  /** The first `?limit` deals (see LIST_LIMIT), never the whole account. */
  @Get('deals')
  deals(@PipedriveConnectionId() connectionId: string, @Query() query: unknown) {
    return this.account.deals(connectionId, parseListQuery(query).limit);
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

  /** The first `?limit` leads (see LIST_LIMIT). */
  @Get('leads')
  leads(@PipedriveConnectionId() connectionId: string, @Query() query: unknown) {
    return this.account.leads(connectionId, parseListQuery(query).limit);
  }
}
