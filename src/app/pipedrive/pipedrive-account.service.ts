import { Injectable } from '@nestjs/common';
import { PipedriveClient } from '../../index.js';
import type { CreateDealDto } from './create-deal.dto.js';

/** What a feature service looks like: PipedriveClient injected, every call made as one connection. */
@Injectable()
export class PipedriveAccountService {
  constructor(private readonly pipedrive: PipedriveClient) {}

  me(connectionId: string) {
    return this.pipedrive.forConnection(connectionId).users.me();
  }

  deals(connectionId: string, limit: number) {
    return this.pipedrive.forConnection(connectionId).deals.all(undefined, { maxItems: limit });
  }

  createDeal(connectionId: string, deal: CreateDealDto) {
    return this.pipedrive.forConnection(connectionId).deals.create(deal);
  }

  leads(connectionId: string, limit: number) {
    return this.pipedrive.forConnection(connectionId).leads.all(undefined, { maxItems: limit });
  }
}
