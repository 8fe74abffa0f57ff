import { Module } from '@nestjs/common';
import { DealPanelController } from './deal-panel.controller.js';

/** The reference app's Pipedrive app extensions (PipedriveExtensionsModule itself is registered in AppModule). */
@Module({ controllers: [DealPanelController] })
export class ExtensionsModule {}
