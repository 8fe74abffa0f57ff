// Module
export { PipedriveAuthModule } from './pipedrive-auth.module.js';
export type {
  PipedriveAuthModuleAsyncOptions,
  PipedriveAuthModuleExtras,
  PipedriveAuthModuleRootOptions,
} from './pipedrive-auth.module-definition.js';
export type {
  PipedriveAuthModuleOptions,
  PipedriveClientOptions,
  ResolvedPipedriveClientOptions,
  PipedriveRefreshSweepOptions,
  ResolvedPipedriveOptions,
} from './pipedrive-auth.options.js';
export { PIPEDRIVE_OPTION_DEFAULTS, PIPEDRIVE_SANDBOX_SECRETS, isPipedriveOrigin } from './pipedrive-auth.options.js';
export { InjectPipedriveOptions, PIPEDRIVE_OPTIONS } from './pipedrive.constants.js';
export { InjectPipedriveClock, PipedriveClock, systemClock } from './pipedrive.clock.js';
export * from './errors/pipedrive.errors.js';
export { pipedriveErrorResponse, type PipedriveErrorBody, type PipedriveErrorResponse } from './errors/pipedrive-error.response.js';
export { PipedriveAuthException } from './errors/pipedrive-auth.exception.js';
export { PipedriveExceptionFilter } from './errors/pipedrive-exception.filter.js';

// Auth: routes, guards, session
export { PipedriveAuthController, type PipedriveConnectedBody } from './auth/pipedrive-auth.controller.js';
export { PipedriveAuthGuard } from './auth/pipedrive-auth.guard.js';
export { PipedriveConnectService, type PipedriveAfterConnect } from './auth/pipedrive-connect.service.js';
export { PipedriveConnectionId } from './auth/pipedrive-connection-id.decorator.js';
export { PipedriveSession, type PipedriveSessionCheck, type PipedriveSessionFailure } from './auth/pipedrive-session.js';
export { PipedriveSameOriginGuard } from './auth/pipedrive-same-origin.guard.js';
export { PipedriveSessionGuard } from './auth/pipedrive-session.guard.js';
export { PipedriveUninstallGuard } from './auth/pipedrive-uninstall.guard.js';

// Tokens: storage, lifecycle, events
export { TokenService } from './tokens/token.service.js';
export { PipedriveRefreshSweeper, type PipedriveSweepSummary } from './tokens/pipedrive-refresh-sweeper.js';
export { PIPEDRIVE_ENTITIES, PIPEDRIVE_MIGRATIONS } from './database/pipedrive.entities.js';
export {
  rotatePipedriveEncryptionKeys,
  type PipedriveKeyRotationOptions,
  type PipedriveKeyRotationSummary,
} from './tokens/key-rotation.js';
export {
  PIPEDRIVE_EVENTS,
  PipedriveEvents,
  type PipedriveConnectionEvent,
  type PipedriveEventListener,
  type PipedriveEventType,
} from './tokens/pipedrive-events.js';
export type * from './tokens/pipedrive-token.types.js';

// Client
export { PipedriveClient } from './client/pipedrive.client.js';
export { PipedriveConnectionClient } from './client/pipedrive-connection.client.js';
export { PipedriveResource, type PipedriveListOptions, type PipedriveResourceCalls } from './client/pipedrive-resource.js';
export { MAX_PAGE_SIZE, type PipedrivePaginateOptions } from './client/pagination.js';
export type * from './client/client.types.js';
export type * from './client/resource.types.js';
export type * from './client/resource-inputs.types.js';
export type { PipedriveRedis } from './client/burst-limiter.js';
export type { PipedriveBudgetState } from './client/daily-budget.js';
export type { PipedriveSdkApiClass, PipedriveSdkConfiguration, PipedriveSdkVersion } from './client/sdk-configuration.js';
export {
  CUSTOM_FIELDS_MISS_REFRESH_MS,
  PipedriveCustomFields,
  PipedriveCustomFieldValues,
  type PipedriveCustomFieldDefinition,
  type PipedriveCustomFieldEntity,
  type PipedriveCustomFieldInput,
} from './client/custom-fields.js';
export {
  PipedriveCustomFieldsResource,
  type PipedriveCustomFieldsInput,
  type PipedriveWithCustomFields,
} from './client/custom-fields.resource.js';
export { PipedriveUnknownCustomFieldError, PipedriveUnknownCustomFieldOptionError } from './errors/pipedrive-custom-field.errors.js';

// Metrics (prom-client, optional peer)
export {
  PipedriveMetrics,
  type PipedriveMetricsOptions,
  type PipedriveMetricsRegistry,
  type PipedriveRetryReason,
  type PipedriveWaitReason,
  type PipedriveWebhookMetrics,
} from './metrics/pipedrive-metrics.js';

// App extensions: verified extension tokens, framing, JSON panels
export { PipedriveExtensionsModule } from './extensions/pipedrive-extensions.module.js';
export type { PipedriveExtensionsModuleExtras } from './extensions/pipedrive-extensions.module-definition.js';
export type { PipedriveExtensionsModuleOptions, ResolvedPipedriveExtensionsOptions } from './extensions/pipedrive-extensions.options.js';
export {
  InjectPipedriveExtensionsOptions,
  PIPEDRIVE_EXTENSIONS_OPTIONS,
  PIPEDRIVE_FRAME_ANCESTOR,
} from './extensions/pipedrive-extensions.constants.js';
export { PipedriveExtensionGuard } from './extensions/pipedrive-extension.guard.js';
export {
  PipedriveExtension,
  type PipedriveConnectedExtensionContext,
  type PipedriveExtensionContext,
  type PipedriveExtensionDecoratorOptions,
} from './extensions/pipedrive-extension.decorator.js';
export { PipedriveExtensionPage } from './extensions/pipedrive-extension.guard.js';
export {
  PipedriveExtensionTokenVerifier,
  type PipedriveExtensionClaims,
  type PipedriveExtensionPayload,
} from './extensions/pipedrive-extension-token.js';
export * from './extensions/json-panel.js';

// Webhooks v2: registration, receiver, inbox, handlers
export { PipedriveWebhooksModule } from './webhooks/pipedrive-webhooks.module.js';
export type { PipedriveWebhooksModuleExtras } from './webhooks/pipedrive-webhooks.module-definition.js';
export {
  MAX_WEBHOOKS_PER_USER,
  WEBHOOK_DEFAULTS,
  type PipedriveWebhooksModuleOptions,
  type ResolvedPipedriveWebhooksOptions,
} from './webhooks/pipedrive-webhooks.options.js';
export { InjectPipedriveWebhooksOptions, PIPEDRIVE_WEBHOOKS_OPTIONS } from './webhooks/pipedrive-webhooks.constants.js';
export { OnPipedriveWebhook } from './webhooks/on-pipedrive-webhook.decorator.js';
export { PipedriveWebhooksService, type PipedriveStoredWebhookEvent } from './webhooks/pipedrive-webhooks.service.js';
export { PipedriveWebhookReceiver } from './webhooks/pipedrive-webhook.receiver.js';
export type { PipedriveConnectionWebhooks, PipedriveWebhookReport } from './webhooks/pipedrive-webhook.registrar.js';
export type * from './webhooks/pipedrive-webhook.types.js';
export type { PipedriveWebhookAction, PipedriveWebhookEventName, PipedriveWebhookObject } from './webhooks/webhook-event-pattern.js';
export {
  PipedriveWebhookHandlerTimeoutError,
  PipedriveWebhookLimitError,
  PipedriveWebhookRegistrationError,
} from './errors/pipedrive-webhook.errors.js';
export { PipedriveWebhookEntity, type PipedriveWebhookStatus } from './database/pipedrive-webhook.entity.js';
export { PipedriveWebhookEventEntity, type PipedriveWebhookEventStatus } from './database/pipedrive-webhook-event.entity.js';
