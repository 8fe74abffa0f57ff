import { Module } from '@nestjs/common';
import { AssetsController } from './assets.controller.js';
import { HomeController } from './home.controller.js';

/** What a person sees in a browser: the page at `/` and its assets. */
@Module({ controllers: [HomeController, AssetsController] })
export class WebModule {}
