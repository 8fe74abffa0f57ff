import { PipedriveConfigurationError } from '../errors/pipedrive.errors.js';
import { PIPEDRIVE_WEBHOOK_HANDLER } from './pipedrive-webhooks.constants.js';
import { type EventPattern, type PipedriveWebhookEventName, parseEventPattern } from './webhook-event-pattern.js';

/**
 * Marks a provider method as a handler of Pipedrive webhook events: `@OnPipedriveWebhook('change.deal')`,
 * wildcards too (`'*.deal'`, `'*.*'`), several names or several decorators. The module finds handlers at
 * start-up and calls them with a {@link PipedriveWebhookEvent} after the delivery was stored and answered.
 * A handler that throws is retried with back-off; handlers must be idempotent (delivery is at least once).
 */
export function OnPipedriveWebhook(...events: [PipedriveWebhookEventName, ...PipedriveWebhookEventName[]]): MethodDecorator {
  const patterns = events.map((name) => {
    const pattern = parseEventPattern(name);
    if (!pattern) {
      throw new PipedriveConfigurationError(
        `@OnPipedriveWebhook("${name}"): not a v2 event; use "action.object" with action create, change, delete or * and object activity, deal, lead, note, organization, person, product, user or *.`,
      );
    }
    return pattern;
  });
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const known: EventPattern[] = Reflect.getMetadata(PIPEDRIVE_WEBHOOK_HANDLER, descriptor.value) ?? [];
    Reflect.defineMetadata(PIPEDRIVE_WEBHOOK_HANDLER, [...known, ...patterns], descriptor.value);
    return descriptor;
  };
}
