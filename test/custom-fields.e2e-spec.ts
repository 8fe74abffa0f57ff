import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipedriveConnectionClient } from '../src/client/pipedrive-connection.client.js';
import { CUSTOM_FIELDS_MISS_REFRESH_MS } from '../src/client/custom-fields.js';
import { PipedriveUnknownCustomFieldError, PipedriveUnknownCustomFieldOptionError } from '../src/errors/pipedrive-custom-field.errors.js';
import { PipedriveApiError } from '../src/errors/pipedrive.errors.js';
import type { PipedriveEmulatorCustomField } from '../src/testing/index.js';
import { ManualClock } from '../src/testing/manual-clock.js';
import { startClientFixture, USER, type ClientFixture } from './support/client-fixture.js';

/** How the app declares its deal fields. */
interface DealFields {
  Budget: number;
  Priority: 'High' | 'Low';
  Tags: Array<'Red' | 'Green' | 'Blue'>;
  Region: string;
  Score: number;
}

const TTL_SECONDS = 300;

describe('custom fields by name (emulator over HTTP, ManualClock)', () => {
  const clock = new ManualClock();
  let f: ClientFixture;
  let api: PipedriveConnectionClient;
  let budget: PipedriveEmulatorCustomField;
  let priority: PipedriveEmulatorCustomField;
  let tags: PipedriveEmulatorCustomField;
  const fieldFetches = (path = '/api/v2/dealFields') => f.emu.requests.filter((r) => r.path === path).length;
  const stored = (resource: 'deals' | 'leads' | 'persons' | 'products', id: number | string) =>
    f.emu.records(USER.companyId, resource).find((r) => r.id === id)!;

  beforeAll(async () => {
    f = await startClientFixture({ client: { customFieldsTtlSeconds: TTL_SECONDS } }, clock);
    api = f.client.forConnection(f.connectionId);
    budget = f.emu.addCustomField(USER.companyId, 'deal', { name: 'Budget', type: 'double' });
    priority = f.emu.addCustomField(USER.companyId, 'deal', { name: 'Priority', type: 'enum', options: ['High', 'Low'] });
    tags = f.emu.addCustomField(USER.companyId, 'deal', { name: 'Tags', type: 'set', options: ['Red', 'Green', 'Blue'] });
  });
  afterAll(() => f?.close());
  beforeEach(() => f.emu.resetCounts());

  it('writes values by name under the hash keys and reads them back by name, options as labels', async () => {
    const deals = api.deals.withCustomFields<DealFields>();
    const created = await deals.create({ title: 'Big one', custom: { Budget: 1000, Priority: 'High', Tags: ['Red', 'Blue'] } });

    const [high, low] = priority.options!;
    const [red, , blue] = tags.options!;
    expect(budget.key).toMatch(/^[0-9a-f]{40}$/);
    expect(stored('deals', created.id).custom_fields).toMatchObject({
      [budget.key]: 1000,
      [priority.key]: high!.id,
      [tags.key]: [red!.id, blue!.id],
    });

    const deal = await deals.get(created.id);
    expect(deal.custom.get('Budget')).toBe(1000);
    expect(deal.custom.get('Priority')).toBe('High');
    expect(deal.custom.get('Tags')).toEqual(['Red', 'Blue']);
    expect(deal.custom.toObject()).toEqual({ Budget: 1000, Priority: 'High', Tags: ['Red', 'Blue'] });
    // The record still serialises as Pipedrive sent it.
    expect(JSON.parse(JSON.stringify(deal))).not.toHaveProperty('custom');
    expect(deal.custom_fields[priority.key]).toBe(high!.id);

    const changed = await deals.update(created.id, { custom: { Priority: 'Low', Tags: [], Budget: null } });
    expect(changed.custom.toObject()).toEqual({ Budget: null, Priority: 'Low', Tags: null });
    expect(stored('deals', created.id).custom_fields).toMatchObject({ [priority.key]: low!.id, [tags.key]: null, [budget.key]: null });
    // Definitions were fetched once for all of that.
    expect(fieldFetches()).toBe(1);
  });

  it('refuses an unknown name with a typed error listing the known ones, and sends nothing', async () => {
    const deals = api.deals.withCustomFields<Record<string, unknown>>();
    const [deal] = f.emu.seed(USER.companyId, { deals: 1 }).deals as number[];
    f.emu.resetCounts();
    const error = await deals.update(deal!, { custom: { Budjet: 5 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipedriveUnknownCustomFieldError);
    expect((error as PipedriveUnknownCustomFieldError).known).toEqual(['Budget', 'Priority', 'Tags']);
    expect((error as Error).message).toBe(
      'Pipedrive deal custom field "Budjet" does not exist in this company. Known deal custom fields: "Budget", "Priority", "Tags".',
    );
    expect(f.emu.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);

    const read = await deals.get(deal!);
    expect(() => read.custom.get('Budjet')).toThrow(PipedriveUnknownCustomFieldError);

    const option = await deals.update(deal!, { custom: { Priority: 'Urgent' } }).catch((e: unknown) => e);
    expect(option).toBeInstanceOf(PipedriveUnknownCustomFieldOptionError);
    expect((option as Error).message).toBe(
      '"Urgent" is not an option of Pipedrive deal custom field "Priority". Its options: "High", "Low".',
    );
  });

  it('fetches the definitions again on a miss (a field added since) and after the TTL (an option renamed)', async () => {
    const deals = api.deals.withCustomFields<DealFields>();
    await api.customFields.definitions('deal');
    const before = fieldFetches();
    const [id] = f.emu.seed(USER.companyId, { deals: 1 }).deals as number[];
    await clock.advance(CUSTOM_FIELDS_MISS_REFRESH_MS);

    // An admin adds a field: the next write by its name fetches the definitions once more and succeeds.
    const region = f.emu.addCustomField(USER.companyId, 'deal', { name: 'Region', type: 'varchar' });
    await deals.update(id!, { custom: { Region: 'EU' } });
    expect(fieldFetches()).toBe(before + 1);
    expect(stored('deals', id!).custom_fields).toMatchObject({ [region.key]: 'EU' });

    // Another added field shows up in a record (its hash is unknown): reading it fetches them again.
    await clock.advance(CUSTOM_FIELDS_MISS_REFRESH_MS);
    f.emu.addCustomField(USER.companyId, 'deal', { name: 'Score', type: 'int' });
    expect((await deals.get(id!)).custom.get('Score')).toBeNull();
    expect(fieldFetches()).toBe(before + 2);

    // A miss right after a fetch does not fetch again: a typo in a loop costs nothing.
    await expect(deals.update(id!, { custom: { Nope: 1 } as never })).rejects.toThrow(PipedriveUnknownCustomFieldError);
    expect(fieldFetches()).toBe(before + 2);

    // An option relabelled keeps its id: nothing misses, so the cached label stays until the TTL ends.
    await deals.update(id!, { custom: { Priority: 'High' } });
    f.emu.changeCustomField(USER.companyId, 'deal', priority.key, { optionLabels: { [priority.options![0]!.id]: 'Hot' } });
    expect((await deals.get(id!)).custom.get('Priority')).toBe('High');
    await clock.advance(TTL_SECONDS * 1000);
    expect((await deals.get(id!)).custom.get('Priority')).toBe('Hot' as never);
    expect(fieldFetches()).toBe(before + 3);
    f.emu.changeCustomField(USER.companyId, 'deal', priority.key, { optionLabels: { [priority.options![0]!.id]: 'High' } });
    await clock.advance(TTL_SECONDS * 1000);
  });

  it('persons, organizations and products each have their own fields (v2 custom_fields)', async () => {
    const size = f.emu.addCustomField(USER.companyId, 'organization', { name: 'Size', type: 'enum', options: ['Small', 'Large'] });
    f.emu.addCustomField(USER.companyId, 'person', { name: 'Birthday', type: 'date' });
    f.emu.addCustomField(USER.companyId, 'product', { name: 'Weight', type: 'double' });
    const org = await api.organizations.withCustomFields<{ Size: 'Small' | 'Large' }>().create({ name: 'Acme', custom: { Size: 'Large' } });
    expect(org.custom.get('Size')).toBe('Large');
    expect(org.custom_fields[size.key]).toBe(size.options![1]!.id);
    const person = await api.persons.withCustomFields<{ Birthday: string }>().create({ name: 'Ada', custom: { Birthday: '1815-12-10' } });
    expect(person.custom.toObject()).toEqual({ Birthday: '1815-12-10' });
    const product = await api.products.withCustomFields<{ Weight: number }>().create({ name: 'Anvil', custom: { Weight: 50 } });
    expect(product.custom.get('Weight')).toBe(50);
    // The deal fields are not the person's.
    await expect(api.persons.withCustomFields().create({ name: 'Bob', custom: { Budget: 1 } })).rejects.toThrow(
      /Known person custom fields: "Birthday"/,
    );
  });

  it('leads carry the deal fields as top-level hash keys (v1 leadFields)', async () => {
    const leads = api.leads.withCustomFields<DealFields>();
    const [org] = f.emu.seed(USER.companyId, { organizations: 1 }).organizations as number[];
    const lead = await leads.create({ title: 'Warm lead', organization_id: org!, custom: { Priority: 'Low', Budget: 20 } });
    const raw = stored('leads', lead.id);
    expect(raw[priority.key]).toBe(priority.options![1]!.id);
    expect(raw).not.toHaveProperty('custom_fields');
    expect((await leads.get(lead.id)).custom.get('Priority')).toBe('Low');
    expect(fieldFetches('/api/v1/leadFields')).toBe(1);
  });
});

describe('the emulator stores custom fields as Pipedrive does', () => {
  let f: ClientFixture;
  let api: PipedriveConnectionClient;
  let field: PipedriveEmulatorCustomField;

  beforeAll(async () => {
    f = await startClientFixture();
    api = f.client.forConnection(f.connectionId);
    field = f.emu.addCustomField(USER.companyId, 'deal', { name: 'Colours', type: 'set', options: ['Red', 'Blue'] });
  });
  afterAll(() => f?.close());

  it('serves built-in and custom definitions, per company, in v2 and v1 shapes', async () => {
    const v2 = await api.all<{ field_code: string; field_name: string; is_custom_field: boolean; options: unknown }>('/v2/dealFields');
    expect(v2.find((d) => d.field_code === 'title')).toMatchObject({ field_name: 'Title', is_custom_field: false });
    expect(v2.find((d) => d.field_code === field.key)).toMatchObject({ field_name: 'Colours', field_type: 'set', is_custom_field: true });
    const v1 = await api.all<{ key: string; edit_flag: boolean }>('/v1/leadFields');
    expect(v1.find((d) => d.key === field.key)).toMatchObject({ name: 'Colours', edit_flag: true });
    expect(await api.all('/v2/personFields')).not.toContainEqual(expect.objectContaining({ field_code: field.key }));
    await expect(api.get('/v1/dealFields')).rejects.toMatchObject({ status: 410 });
  });

  it('refuses unknown hash keys, option ids that do not exist and an empty set', async () => {
    const deal = await api.deals.create({ title: 'Strict' });
    expect(deal.custom_fields).toEqual({ [field.key]: null });
    for (const custom_fields of [{ ['f'.repeat(40)]: 1 }, { [field.key]: [999] }, { [field.key]: [] }, { [field.key]: 'Red' }]) {
      const error = await api.deals.update(deal.id, { custom_fields }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PipedriveApiError);
      expect((error as PipedriveApiError).details.status).toBe(400);
    }
    const ok = await api.deals.update(deal.id, { custom_fields: { [field.key]: [field.options![1]!.id] } });
    expect(ok.custom_fields[field.key]).toEqual([field.options![1]!.id]);
  });
});
