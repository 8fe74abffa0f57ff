import { Module } from '@nestjs/common';
import { PipedriveAccountController } from './pipedrive-account.controller.js';
import { PipedriveAccountService } from './pipedrive-account.service.js';

/** A feature module: PipedriveClient comes from PipedriveAuthModule by dependency injection. */
@Module({
  controllers: [PipedriveAccountController],
  providers: [PipedriveAccountService],
})
export class PipedriveAccountModule {}
