import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { PipedriveWebhookEvent } from './pipedrive-webhook.types.js';
import { PIPEDRIVE_WEBHOOK_HANDLER } from './pipedrive-webhooks.constants.js';
import { type EventPattern, matchesPattern } from './webhook-event-pattern.js';

/** One `@OnPipedriveWebhook()` method, bound to its provider. */
export interface WebhookHandler {
  /** `Class.method`: what the inbox records as done, so a retry skips handlers that succeeded. */
  id: string;
  patterns: EventPattern[];
  call(event: PipedriveWebhookEvent): Promise<unknown>;
}

/**
 * Finds every `@OnPipedriveWebhook()` method of the app's providers through Nest's DiscoveryService
 * once at start-up, the way @nestjs/event-emitter finds `@OnEvent()` listeners.
 */
@Injectable()
export class WebhookHandlerRegistry implements OnModuleInit {
  private readonly logger = new Logger('PipedriveWebhooks');
  private handlers: WebhookHandler[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    const found: WebhookHandler[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = instance[method];
        const patterns =
          typeof fn === 'function' ? (Reflect.getMetadata(PIPEDRIVE_WEBHOOK_HANDLER, fn) as EventPattern[] | undefined) : undefined;
        if (!patterns) continue;
        const id = `${instance.constructor.name}.${method}`;
        found.push({ id, patterns, call: async (event) => (fn as (e: PipedriveWebhookEvent) => unknown).call(instance, event) });
      }
    }
    this.handlers = found;
    this.logger.log(`${found.length} webhook handler(s): ${found.map((h) => h.id).join(', ') || 'none'}`);
  }

  /** Handlers of an event, in discovery order. */
  match(action: string, entity: string): WebhookHandler[] {
    return this.handlers.filter((handler) => handler.patterns.some((pattern) => matchesPattern(pattern, action, entity)));
  }
}
