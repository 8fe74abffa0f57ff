import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PipedriveEmulator } from '../../testing/index.js';
import type { AppConfig } from '../config/app-config.js';

/** The emulator the app runs in sandbox mode, or null when it talks to real Pipedrive. */
export const SANDBOX_EMULATOR = Symbol('SANDBOX_EMULATOR');
export const InjectSandboxEmulator = (): ParameterDecorator => Inject(SANDBOX_EMULATOR);

const SANDBOX_DATA = { deals: 250, persons: 40, organizations: 15, activities: 30, leads: 120, notes: 20 };

async function startSandbox(config: ConfigService<AppConfig, true>): Promise<PipedriveEmulator | null> {
  if (!config.get('sandbox', { infer: true })) return null;
  const { clientId, clientSecret, redirectUri } = config.get('pipedrive', { infer: true });
  // The admin scope lets the app register its webhooks with the emulator, as a Marketplace app would.
  const scope = 'base,deals:full,contacts:full,activities:full,leads:full,users:read,admin';
  const emulator = await PipedriveEmulator.start({ apps: [{ clientId, clientSecret, redirectUri, scope }] });
  emulator.seed(emulator.authorizeUser.companyId, SANDBOX_DATA);
  new Logger('Sandbox').warn(
    `SANDBOX MODE: no Pipedrive credentials set, so the built-in Pipedrive emulator runs at ${emulator.url} ` +
      `and approves every authorization. Open http://localhost:${config.get('port', { infer: true })}/ and press Connect Pipedrive.`,
  );
  return emulator;
}

@Global()
@Module({
  providers: [{ provide: SANDBOX_EMULATOR, inject: [ConfigService], useFactory: startSandbox }],
  exports: [SANDBOX_EMULATOR],
})
export class SandboxModule implements OnApplicationShutdown {
  constructor(@InjectSandboxEmulator() private readonly emulator: PipedriveEmulator | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.emulator?.close();
  }
}
