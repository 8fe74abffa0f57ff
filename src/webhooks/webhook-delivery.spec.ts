import { describe, expect, it } from 'vitest';
import { parseDelivery, parseTimestamp } from './webhook-delivery.js';

const meta = {
  action: 'change',
  entity: 'lead',
  entity_id: 'adf21080-0e10-11eb-879b-05d71fb426ec',
  company_id: '123',
  user_id: '456',
  id: '2c2f8c6b-0000-4000-8000-000000000001',
  timestamp: '2025-03-17T10:00:00.000Z',
  version: '2.0',
  webhook_id: '789',
  change_source: 'app',
};

describe('parseDelivery', () => {
  it('keeps the ids as sent and parses numbers beside them (a lead id is a UUID, not a number)', () => {
    const parsed = parseDelivery({ meta, data: { id: meta.entity_id, title: 'Lead' }, previous: { title: 'Old' } })!;
    expect(parsed.meta).toMatchObject({
      entity_id: meta.entity_id,
      entityId: null,
      company_id: '123',
      companyId: 123,
      userId: 456,
      webhookId: 789,
    });
    expect(parsed.meta.timestampMs).toBe(Date.UTC(2025, 2, 17, 10));
    expect(parsed.previous).toEqual({ title: 'Old' });
  });

  it('accepts numeric ids and unix-second timestamps seen in the wild', () => {
    const parsed = parseDelivery({
      meta: { ...meta, entity: 'deal', entity_id: 746, company_id: 123, timestamp: 1742205600 },
      data: null,
    })!;
    expect(parsed.meta).toMatchObject({ entity_id: '746', entityId: 746, timestampMs: 1742205600000 });
    expect(parsed.data).toBeNull();
  });

  it.each([
    ['v1 (meta.v 1)', { meta: { v: 1, action: 'updated', object: 'deal', id: 1 }, current: {} }],
    ['a v1 action', { meta: { ...meta, action: 'updated' } }],
    ['a v1-only object', { meta: { ...meta, entity: 'stage' } }],
    ['no meta.id', { meta: { ...meta, id: '' } }],
    ['a company id that is not a number', { meta: { ...meta, company_id: 'acme' } }],
    ['an unreadable timestamp', { meta: { ...meta, timestamp: 'soon' } }],
    ['data that is not an object', { meta, data: 'x' }],
  ])('is not a v2 delivery: %s', (_name, body) => {
    expect(parseDelivery(body)).toBeUndefined();
  });

  it('reads milliseconds as milliseconds', () => {
    expect(parseTimestamp(1742205600123)).toBe(1742205600123);
    expect(parseTimestamp('1742205600')).toBe(1742205600000);
  });
});
