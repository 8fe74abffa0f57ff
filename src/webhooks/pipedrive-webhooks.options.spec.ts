import { describe, expect, it } from 'vitest';
import { PipedriveConfigurationError } from '../errors/pipedrive.errors.js';
import { OnPipedriveWebhook } from './on-pipedrive-webhook.decorator.js';
import { resolveWebhooksOptions, WEBHOOK_DEFAULTS } from './pipedrive-webhooks.options.js';

describe('resolveWebhooksOptions', () => {
  it('fills the defaults from one place', () => {
    expect(resolveWebhooksOptions({})).toEqual({ ...WEBHOOK_DEFAULTS, events: [] });
  });

  it('accepts wildcards and drops repeated events (each would be a webhook of its own)', () => {
    const options = resolveWebhooksOptions({
      events: ['*.deal', 'change.person', '*.deal', '*.*'],
      subscriptionUrl: 'https://a.example.com/wh',
    });
    expect(options.events).toEqual(['*.deal', 'change.person', '*.*']);
  });

  it('names every wrong option and what to set', () => {
    const error = (() => {
      try {
        resolveWebhooksOptions({
          events: ['updated.deal', 'change.stage'],
          maxAttempts: 0,
          receiverPath: 'webhooks',
          handlerTimeoutMs: 0,
          credentialsCacheMs: -1,
          bogus: 1,
        } as never);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(PipedriveConfigurationError);
    expect(error?.message).toMatch(/option "events" must be a list of at most 40 v2 events/);
    expect(error?.message).toMatch(/option "maxAttempts" must be a whole number from 1 to 100/);
    expect(error?.message).toMatch(/option "receiverPath" must be a path starting with "\/"/);
    expect(error?.message).toMatch(/option "handlerTimeoutMs" must be a whole number of milliseconds from 100/);
    expect(error?.message).toMatch(/option "credentialsCacheMs" must be a whole number of milliseconds from 0 to 300000/);
    expect(error?.message).toMatch(/unknown option "bogus"/);
  });

  it('requires subscriptionUrl when events are set', () => {
    expect(() => resolveWebhooksOptions({ events: ['*.deal'] })).toThrow(/option "subscriptionUrl" must be the public http\(s\) URL/);
  });

  it('@OnPipedriveWebhook refuses a name that is not a v2 event when the class is defined', () => {
    expect(() => OnPipedriveWebhook('updated.deal' as never)).toThrow(PipedriveConfigurationError);
  });
});
