export { PipedriveEmulator } from './pipedrive-emulator.js';
export { PipedriveEmulatorError } from './emulator.errors.js';
export type { PipedriveEmulatorClient, PipedriveEmulatorOptions, PipedriveEmulatorRateLimit } from './emulator.options.js';
export type * from './emulator.types.js';
export { ManualClock } from './manual-clock.js';
export {
  PipedriveEmulatorExtensions,
  type PipedriveEmulatorExtensionCommand,
  type PipedriveEmulatorExtensionView,
  type PipedriveEmulatorJsonPanelAnswer,
} from './extensions/extension-host.js';
