import { PipedriveEmulator, type PipedriveEmulatorRequest } from '../../src/testing/index.js';
import type { PipedriveAuthModuleOptions } from '../../src/pipedrive-auth.options.js';
import type { PipedriveClock } from '../../src/pipedrive.clock.js';
import type { PipedriveTokenSet } from '../../src/tokens/pipedrive-token.types.js';
import { CLIENT_APP, startClientContext, type ClientContext } from './client-context.js';

export const USER = { companyId: 1, userId: 1 };

export interface ClientFixture extends ClientContext {
  emu: PipedriveEmulator;
  /** Connection of USER, stored from an emulator grant. */
  connectionId: string;
  grant: PipedriveTokenSet;
  /** The emulator's API requests since the last resetCounts(). */
  apiRequests(): PipedriveEmulatorRequest[];
}

/** The emulator, PipedriveAuthModule on a fresh SQLite file, and one connection made from a grant. */
export async function startClientFixture(
  options: Partial<PipedriveAuthModuleOptions> = {},
  /** One clock for the app and the emulator (a ManualClock); the system clock otherwise. */
  clock?: PipedriveClock,
): Promise<ClientFixture> {
  const emu = await PipedriveEmulator.start({ apps: [CLIENT_APP], ...(clock && { clock }) });
  const context = await startClientContext(emu.url, options, undefined, clock);
  const grant = emu.grant({ clientId: CLIENT_APP.clientId, ...USER });
  const { id } = await context.connect(USER, grant);
  emu.resetCounts();
  return {
    ...context,
    emu,
    connectionId: id,
    grant,
    apiRequests: () => emu.requests.filter((r) => r.path.startsWith('/api/')),
    close: async () => {
      await context.close();
      await emu.close();
    },
  };
}
