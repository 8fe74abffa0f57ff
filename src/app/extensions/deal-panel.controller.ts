import {
  ArgumentsHost,
  BadRequestException,
  Body,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  HttpCode,
  Param,
  Post,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  jsonPanel,
  type PipedriveConnectedExtensionContext,
  PipedriveExtension,
  PipedriveExtensionGuard,
  PipedriveExtensionNotConnectedError,
  PipedriveExtensionPage,
  type PipedriveJsonPanel,
  type PipedriveNote,
} from '../../index.js';
import { DealNotes, parseDealId, parseNote } from './deal-notes.js';
import { connectFirstPage, dealPanelPage, stripTags } from './deal-panel.page.js';

/** Inside Pipedrive, a user who never connected gets a page linking to the connect flow; no data. */
@Catch(PipedriveExtensionNotConnectedError)
class ConnectFirstFilter implements ExceptionFilter {
  catch(_error: PipedriveExtensionNotConnectedError, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<{ protocol: string; get(name: string): string | undefined }>();
    const connectUrl = `${request.protocol}://${request.get('host')}/auth/pipedrive`;
    host.switchToHttp().getResponse<Response>().status(403).type('html').send(connectFirstPage(connectUrl));
  }
}

/** The deal the panel is opened for: Pipedrive names it in `selectedIds`. */
function selectedDeal(extension: PipedriveConnectedExtensionContext): number {
  if (extension.resource !== undefined && extension.resource !== 'deal') {
    throw new BadRequestException({ statusCode: 400, error: 'invalid_request', message: 'This panel is for deals (resource=deal).' });
  }
  return parseDealId(extension.selectedIds[0]);
}

/**
 * The app's extensions, registered in Developer Hub:
 * - custom panel (deal details): `GET /extensions/deal-panel`;
 * - JSON panel (deal details): `GET /extensions/deal-json-panel`;
 * - the panel's own calls, with `Authorization: Bearer <get_signed_token>`: `/extensions/api/deals/:id/notes`.
 * Everything acts as the token's (company, user) connection: a token can reach its own company's data only.
 */
@Controller('extensions')
export class DealPanelController {
  @Get('deal-panel')
  @PipedriveExtensionPage()
  @UseFilters(ConnectFirstFilter)
  async panel(@PipedriveExtension() extension: PipedriveConnectedExtensionContext): Promise<string> {
    return dealPanelPage(await new DealNotes(extension.client).summary(selectedDeal(extension)));
  }

  @Get('deal-json-panel')
  @UseGuards(PipedriveExtensionGuard)
  async jsonPanel(@PipedriveExtension() extension: PipedriveConnectedExtensionContext): Promise<PipedriveJsonPanel> {
    const { deal, notes } = await new DealNotes(extension.client).summary(selectedDeal(extension));
    return jsonPanel()
      .object({
        id: deal.id,
        header: deal.title,
        value: { code: deal.currency, value: deal.value },
        status: deal.status,
        notes: notes.length,
        latest_note: notes[0] ? stripTags(notes[0].content).slice(0, 200) : undefined,
      })
      .build();
  }

  @Get('api/deals/:id/notes')
  @UseGuards(PipedriveExtensionGuard)
  notes(@PipedriveExtension() extension: PipedriveConnectedExtensionContext, @Param('id') id: string): Promise<PipedriveNote[]> {
    return new DealNotes(extension.client).notes(parseDealId(id));
  }

  @Post('api/deals/:id/notes')
  @HttpCode(201)
  @UseGuards(PipedriveExtensionGuard)
  addNote(
    @PipedriveExtension() extension: PipedriveConnectedExtensionContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<PipedriveNote> {
    const dealId = parseDealId(id);
    return new DealNotes(extension.client).add(dealId, parseNote(body).content);
  }
}
