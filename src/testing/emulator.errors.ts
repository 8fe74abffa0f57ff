import { PipedriveError } from '../errors/pipedrive.errors.js';

/** The emulator was used in a way it cannot honour (unknown client, bad option). */
export class PipedriveEmulatorError extends PipedriveError {}
