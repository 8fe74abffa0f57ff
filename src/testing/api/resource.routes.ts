import type { PipedriveClock } from '../../pipedrive.clock.js';
import type { Reply } from '../emulator.server.js';
import type { Owner } from '../oauth/grants.js';
import type { CompanyData } from './company-data.js';
import type { CustomFields } from './custom-fields.js';
import { apiError, badRequest, decodeCursor, encodeCursor, notFound, ok, readLimit, readStart } from './envelope.js';
import { mergeItem, type ResourceDefinition } from './resource-definition.js';
import type { Item, ItemId, ResourceTable } from './resource-table.js';
import type { DataChange } from './webhook-deliveries.js';

/** Who made a change: an app through the API, or a user in Pipedrive's web UI. */
export type ChangeSource = DataChange['source'];

/** List, get, create, update and delete for any resource, within the caller's company. */
export class ResourceRoutes {
  constructor(
    private readonly data: CompanyData,
    private readonly clock: PipedriveClock,
    /** Told of every create, update and delete (webhook deliveries). */
    private readonly changed: (change: DataChange) => void = () => undefined,
    /** Custom-field definitions: values checked on writes, every field present on reads. */
    private readonly fields?: CustomFields,
  ) {}

  handle(
    method: string,
    def: ResourceDefinition,
    idPart: string | undefined,
    query: URLSearchParams,
    body: unknown,
    owner: Owner,
    source: ChangeSource = 'api',
  ): Reply {
    const table = this.data.table(owner.companyId, def.name);
    const reply = this.dispatch(method, def, table, idPart, query, body, owner, source);
    return this.fields && reply.status < 300 ? this.present(owner.companyId, def, reply) : reply;
  }

  private dispatch(
    method: string,
    def: ResourceDefinition,
    table: ResourceTable,
    idPart: string | undefined,
    query: URLSearchParams,
    body: unknown,
    owner: Owner,
    source: ChangeSource,
  ): Reply {
    if (idPart === undefined) {
      if (method === 'GET') return this.list(def, table, query);
      if (method === 'POST') return this.create(def, table, body, owner, source);
      return apiError(405, 'Method not allowed');
    }
    const id = def.uuid ? idPart : /^[1-9]\d{0,15}$/.test(idPart) ? Number(idPart) : undefined;
    if (id === undefined) return badRequest('Validation failed: id: Expected a positive integer');
    if (method === 'GET') return this.get(def, table, id);
    if (method === def.updateMethod) return this.update(def, table, id, body, owner, source);
    if (method === 'DELETE') return this.remove(def, table, id, owner, source);
    return apiError(405, 'Method not allowed');
  }

  private list(def: ResourceDefinition, table: ResourceTable, query: URLSearchParams): Reply {
    const limit = readLimit(query);
    if (typeof limit !== 'number') return limit;
    const keep = filterFor(def, query);
    if (def.pagination === 'cursor') {
      const after = decodeCursor(query.get('cursor'));
      if (typeof after !== 'number') return after;
      const { items, more } = table.after(after, limit, keep);
      return ok(items, { next_cursor: more ? encodeCursor(items[items.length - 1]!.id as number) : null });
    }
    const start = readStart(query);
    if (typeof start !== 'number') return start;
    const { items, more } = table.slice(start, limit, keep);
    const pagination = { start, limit, more_items_in_collection: more, ...(more && { next_start: start + limit }) };
    return ok(items.length === 0 && def.emptyListIsNull ? null : items, { pagination });
  }

  private get(def: ResourceDefinition, table: ResourceTable, id: ItemId): Reply {
    const item = table.get(id);
    return item ? ok(item) : notFound(def.label);
  }

  private create(def: ResourceDefinition, table: ResourceTable, body: unknown, owner: Owner, source: ChangeSource): Reply {
    if (!isObject(body)) return badRequest('Validation failed: body: Expected a JSON object');
    const item = this.data.build(owner.companyId, owner.userId, def.name, body, this.clock.now());
    const refused = this.fields?.write(owner.companyId, def, item, body, undefined);
    if (refused) return refused;
    const problem = def.invalid(item);
    if (problem) return badRequest(problem);
    table.insert(item);
    this.changed({ ...who(owner, def, source, this.clock.now()), action: 'create', current: item, before: null });
    // v1 answers a creation with 201 Created, v2 with 200.
    return ok(item, undefined, def.version === 'v1' ? 201 : 200);
  }

  private update(def: ResourceDefinition, table: ResourceTable, id: ItemId, body: unknown, owner: Owner, source: ChangeSource): Reply {
    const existing = table.get(id);
    if (!existing) return notFound(def.label);
    if (!isObject(body)) return badRequest('Validation failed: body: Expected a JSON object');
    const item = mergeItem(def, existing, body, this.clock.now());
    const refused = this.fields?.write(owner.companyId, def, item, body, existing);
    if (refused) return refused;
    const problem = def.invalid(item);
    if (problem) return badRequest(problem);
    table.replace(item);
    this.changed({ ...who(owner, def, source, this.clock.now()), action: 'change', current: item, before: existing });
    return ok(item);
  }

  private remove(def: ResourceDefinition, table: ResourceTable, id: ItemId, owner: Owner, source: ChangeSource): Reply {
    const existing = table.get(id);
    if (!existing || !table.remove(id)) return notFound(def.label);
    this.changed({ ...who(owner, def, source, this.clock.now()), action: 'delete', current: null, before: existing });
    return ok(def.name === 'notes' ? true : { id });
  }

  /** Records in an answer as the API sends them, with every custom field of their entity. */
  private present(companyId: number, def: ResourceDefinition, reply: Reply): Reply {
    const body = reply.body as { data?: unknown };
    const show = (item: unknown) => (isObject(item) && 'id' in item ? this.fields!.present(companyId, def, item as Item) : item);
    const data = Array.isArray(body.data) ? body.data.map(show) : show(body.data);
    return { ...reply, body: { ...body, data } };
  }
}

function who(owner: Owner, def: ResourceDefinition, source: ChangeSource, at: number) {
  return { companyId: owner.companyId, userId: owner.userId, resource: def.name, source, at };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Equality filters on the query parameters this resource supports; undefined when none apply. */
function filterFor(def: ResourceDefinition, query: URLSearchParams): ((item: Item) => boolean) | undefined {
  const active = def.filters.filter((field) => query.has(field)).map((field) => [field, query.get(field)!] as const);
  if (active.length === 0) return undefined;
  return (item) => active.every(([field, value]) => String(item[field]) === value);
}
