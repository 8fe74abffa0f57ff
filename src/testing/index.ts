export { PipedriveEmulator } from './pipedrive-emulator.js';
export { PipedriveEmulatorError } from './emulator.errors.js';
export type {
  PipedriveEmulatorApp,
  PipedriveEmulatorLatency,
  PipedriveEmulatorOptions,
  PipedriveEmulatorRateLimit,
} from './emulator.options.js';
export type * from './emulator.types.js';
export type { PipedriveEmulatorAppServer } from './oauth/connect.js';
export { ManualClock } from './manual-clock.js';
export type {
  PipedriveEmulatorUiChange,
  PipedriveEmulatorWebhook,
  PipedriveEmulatorWebhookAttempt,
  PipedriveEmulatorWebhookCounts,
  PipedriveEmulatorWebhookOptions,
} from './api/webhook.types.js';
export {
  PipedriveEmulatorExtensions,
  type PipedriveEmulatorExtensionCommand,
  type PipedriveEmulatorExtensionView,
  type PipedriveEmulatorJsonPanelAnswer,
} from './extensions/extension-host.js';
export type { PipedriveEmulatorBudgetHeaders } from './api/company-budgets.js';
