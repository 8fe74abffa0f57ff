import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { PipedriveConnectionId, PipedriveSessionGuard } from '../../index.js';
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
  createDeal(@PipedriveConnectionId() connectionId: string, @Body() body: unknown) {
    return this.account.createDeal(connectionId, parseCreateDeal(body));
  }

  @Get('leads')
  leads(@PipedriveConnectionId() connectionId: string) {
    return this.account.allLeads(connectionId);
  }
}
