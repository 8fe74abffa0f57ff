import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ASSET_FILES } from './html.js';

/** The pages' stylesheet and scripts; only the files named in ASSET_FILES, nothing else on disk. */
@Controller('assets')
export class AssetsController {
  @Get(':name')
  asset(@Param('name') name: string, @Res() response: Response): void {
    const asset = Object.hasOwn(ASSET_FILES, name) ? ASSET_FILES[name] : undefined;
    if (!asset) throw new NotFoundException({ statusCode: 404, error: 'not_found', message: 'No such asset.' });
    response.type(asset.type).set('cache-control', 'no-cache').sendFile(asset.path);
  }
}
