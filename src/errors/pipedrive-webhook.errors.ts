import { PipedriveError } from './pipedrive.errors.js';

/**
 * Pipedrive did not create (or list, or delete) a connection's webhook. Logged and recorded on the
 * webhook's status; never fails the install. `status`/`pipedriveError` are Pipedrive's answer, when there was one.
 */
export class PipedriveWebhookRegistrationError extends PipedriveError {
  constructor(
    message: string,
    readonly details: {
      connectionId: string;
      /** `action.object`, or undefined when listing the webhooks failed. */
      event?: string;
      status?: number;
      pipedriveError?: string;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The user already has Pipedrive's maximum of app webhooks (40): remove events from `events`, or webhooks at Pipedrive. */
export class PipedriveWebhookLimitError extends PipedriveWebhookRegistrationError {}

/**
 * An event's handlers ran past `handlerTimeoutMs` in one attempt: the attempt counts as failed and is
 * retried (then dead-lettered) like a thrown error; `event.signal` was aborted with this error.
 */
export class PipedriveWebhookHandlerTimeoutError extends PipedriveError {
  constructor(
    readonly eventId: string,
    readonly timeoutMs: number,
  ) {
    super(`The handlers of webhook event ${eventId} did not settle within ${timeoutMs} ms (handlerTimeoutMs).`);
  }
}
