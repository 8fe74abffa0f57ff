import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { OnPipedriveWebhook, PipedriveConnectionId, PipedriveSessionGuard, TokenService, type PipedriveWebhookEvent } from '../../index.js';

/** What `GET /pipedrive/webhook-events` lists. */
export interface HandledWebhookEvent {
  id: string;
  action: string;
  entity: string;
  entityId: string;
  changeSource: string | null;
}

/** Newest kept per company: a demo, not an audit log (the inbox table holds every event). */
const KEEP_PER_COMPANY = 200;

/**
 * The reference app's webhook handler: records what it handles per company, newest first, each
 * `meta.id` once (handlers may run again for one event: delivery is at least once).
 */
@Injectable()
export class WebhookEventsRecorder {
  private readonly byCompany = new Map<number, HandledWebhookEvent[]>();

  @OnPipedriveWebhook('*.*')
  record(event: PipedriveWebhookEvent): void {
    const list = this.byCompany.get(event.connection.companyId) ?? [];
    if (list.some((known) => known.id === event.id)) return;
    const { action, entity, entity_id: entityId, change_source } = event.meta;
    list.unshift({ id: event.id, action, entity, entityId, changeSource: change_source ?? null });
    this.byCompany.set(event.connection.companyId, list.slice(0, KEEP_PER_COMPANY));
  }

  forCompany(companyId: number): HandledWebhookEvent[] {
    return [...(this.byCompany.get(companyId) ?? [])];
  }
}

@Controller('pipedrive')
@UseGuards(PipedriveSessionGuard)
export class WebhookEventsController {
  constructor(
    private readonly recorder: WebhookEventsRecorder,
    private readonly tokens: TokenService,
  ) {}

  /** Webhook events handled for the signed-in user's company, newest first. */
  @Get('webhook-events')
  async list(@PipedriveConnectionId() connectionId: string): Promise<HandledWebhookEvent[]> {
    const connection = await this.tokens.findConnection(connectionId);
    return connection ? this.recorder.forCompany(connection.companyId) : [];
  }
}

@Module({ controllers: [WebhookEventsController], providers: [WebhookEventsRecorder] })
export class WebhookEventsModule {}
