import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { PipedriveClient, PipedriveConnectionId, type PipedriveDeal, PipedriveSessionGuard } from 'nestjs-pipedrive';

/** The signed-in user's deals, fetched from Pipedrive as their connection. */
@Controller('deals')
@UseGuards(PipedriveSessionGuard)
export class DealsController {
  constructor(private readonly pipedrive: PipedriveClient) {}

  @Get()
  list(@PipedriveConnectionId() connectionId: string): Promise<PipedriveDeal[]> {
    return this.pipedrive.forConnection(connectionId).deals.all();
  }
}

@Module({ controllers: [DealsController] })
export class DealsModule {}
