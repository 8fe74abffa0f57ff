import { Inject } from '@nestjs/common';

/** Injection token of the resolved {@link ResolvedPipedriveWebhooksOptions}. */
export const PIPEDRIVE_WEBHOOKS_OPTIONS = Symbol('PIPEDRIVE_WEBHOOKS_OPTIONS');
/** Injects {@link ResolvedPipedriveWebhooksOptions}. */
export const InjectPipedriveWebhooksOptions = (): ParameterDecorator => Inject(PIPEDRIVE_WEBHOOKS_OPTIONS);

/** Metadata key `@OnPipedriveWebhook()` writes on a handler method. */
export const PIPEDRIVE_WEBHOOK_HANDLER = 'pipedrive:webhook-handler';

/** `WWW-Authenticate` realm of the receiver's 401 answers. */
export const WEBHOOK_REALM = 'pipedrive-webhooks';
