import { Controller, Get, Global, Header, Inject, Module, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AppConfig } from '../config/app-config.js';

/** The app's prom-client Registry when METRICS=true, else null; PipedriveAuthModule records into it. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const InjectMetricsRegistry = (): ParameterDecorator => Inject(METRICS_REGISTRY);

function createRegistry(config: ConfigService<AppConfig, true>): Registry | null {
  if (!config.get('metrics', { infer: true })) return null;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `GET /metrics` in Prometheus' text format; 404 when METRICS is off, as if the route did not exist. */
@Controller('metrics')
export class MetricsController {
  constructor(@InjectMetricsRegistry() private readonly registry: Registry | null) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  async scrape(): Promise<string> {
    if (!this.registry) throw new NotFoundException('Cannot GET /metrics');
    return this.registry.metrics();
  }
}

@Global()
@Module({
  providers: [{ provide: METRICS_REGISTRY, inject: [ConfigService], useFactory: createRegistry }],
  controllers: [MetricsController],
  exports: [METRICS_REGISTRY],
})
export class MetricsModule {}
