import { describe, expect, it } from 'vitest';
import { JSON_PANEL_LIMITS, jsonPanel, PipedriveJsonPanelError } from './json-panel.js';

describe('jsonPanel()', () => {
  it('builds the shape Pipedrive renders, leaving undefined fields out', () => {
    const panel = jsonPanel()
      .object({ id: 1, header: 'Order #1', total: { code: 'EUR', value: 12.5 }, note: undefined })
      .link('https://example.com/orders', 'See all orders')
      .settings('https://example.com/settings')
      .build();
    expect(panel).toEqual({
      data: [{ id: 1, header: 'Order #1', total: { code: 'EUR', value: 12.5 } }],
      external_link: { url: 'https://example.com/orders', label: 'See all orders' },
      settings: { url: 'https://example.com/settings' },
    });
  });

  it('refuses more objects or fields than Pipedrive shows, and relative links', () => {
    const full = jsonPanel();
    for (let id = 1; id <= JSON_PANEL_LIMITS.objects; id++) full.object({ id });
    expect(() => full.object({ id: 99 })).toThrow(PipedriveJsonPanelError);
    const fields = Object.fromEntries(Array.from({ length: JSON_PANEL_LIMITS.fieldsPerObject + 1 }, (_, i) => [`f${i}`, i]));
    expect(() => jsonPanel().object({ id: 1, ...fields })).toThrow(/at most 10 fields/);
    expect(() => jsonPanel().link('/orders', 'x')).toThrow(PipedriveJsonPanelError);
  });
});
