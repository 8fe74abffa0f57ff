import {
  badIdField,
  isoMillis,
  isoSeconds,
  requireText,
  v1Time,
  type ResourceDefinition,
  type ResourceName,
} from './resource-definition.js';

// API v2 resources.

const v2 = {
  version: 'v2',
  pagination: 'cursor',
  updateMethod: 'PATCH',
  uuid: false,
  emptyListIsNull: false,
  time: isoSeconds,
} as const;

const owned = { visible_to: 3, label_ids: [] as number[], custom_fields: {} };

const deals: ResourceDefinition = {
  ...v2,
  name: 'deals',
  label: 'Deal',
  filters: ['owner_id', 'person_id', 'org_id', 'pipeline_id', 'stage_id', 'status'],
  defaults: ({ userId }) => ({
    title: undefined,
    owner_id: userId,
    person_id: null,
    org_id: null,
    pipeline_id: 1,
    stage_id: 1,
    value: 0,
    currency: 'EUR',
    status: 'open',
    probability: null,
    lost_reason: null,
    expected_close_date: null,
    close_time: null,
    won_time: null,
    lost_time: null,
    ...owned,
  }),
  system: ({ userId }) => ({ creator_user_id: userId, is_deleted: false, stage_change_time: null }),
  invalid: (r) => requireText(r, 'title') ?? badIdField(r),
};

const persons: ResourceDefinition = {
  ...v2,
  name: 'persons',
  label: 'Person',
  filters: ['owner_id', 'org_id'],
  defaults: ({ userId }) => ({
    name: undefined,
    first_name: null,
    last_name: null,
    owner_id: userId,
    org_id: null,
    emails: [],
    phones: [],
    ...owned,
  }),
  system: () => ({ is_deleted: false }),
  invalid: (r) => requireText(r, 'name') ?? badIdField(r),
};

const organizations: ResourceDefinition = {
  ...v2,
  name: 'organizations',
  label: 'Organization',
  filters: ['owner_id'],
  defaults: ({ userId }) => ({ name: undefined, owner_id: userId, address: null, ...owned }),
  system: () => ({ is_deleted: false }),
  invalid: (r) => requireText(r, 'name') ?? badIdField(r),
};

const activities: ResourceDefinition = {
  ...v2,
  name: 'activities',
  label: 'Activity',
  filters: ['owner_id', 'deal_id', 'lead_id', 'person_id', 'org_id', 'done'],
  defaults: ({ userId }) => ({
    subject: 'Task',
    type: 'task',
    owner_id: userId,
    deal_id: null,
    lead_id: null,
    person_id: null,
    org_id: null,
    due_date: null,
    due_time: null,
    duration: null,
    busy: false,
    done: false,
    note: null,
    location: null,
    priority: null,
  }),
  system: ({ userId }) => ({ creator_user_id: userId, is_deleted: false }),
  invalid: (r) => badIdField({ ...r, lead_id: null }),
};

const products: ResourceDefinition = {
  ...v2,
  name: 'products',
  label: 'Product',
  filters: ['owner_id'],
  defaults: ({ userId }) => ({
    name: undefined,
    code: null,
    description: null,
    unit: null,
    tax: 0,
    category: null,
    owner_id: userId,
    is_linkable: true,
    prices: [],
    billing_frequency: 'one-time',
    ...owned,
  }),
  system: () => ({ is_deleted: false }),
  invalid: (r) => requireText(r, 'name') ?? badIdField(r),
};

const pipelines: ResourceDefinition = {
  ...v2,
  name: 'pipelines',
  label: 'Pipeline',
  filters: [],
  defaults: ({ id }) => ({ name: undefined, order_nr: id, is_deal_probability_enabled: false }),
  system: () => ({ is_deleted: false, is_selected: false }),
  invalid: (r) => requireText(r, 'name'),
};

const stages: ResourceDefinition = {
  ...v2,
  name: 'stages',
  label: 'Stage',
  filters: ['pipeline_id'],
  defaults: ({ id }) => ({
    name: undefined,
    pipeline_id: undefined,
    order_nr: id,
    deal_probability: 100,
    is_deal_rot_enabled: false,
    days_to_rotten: null,
  }),
  system: () => ({ is_deleted: false }),
  invalid: (r) =>
    requireText(r, 'name') ??
    (Number.isInteger(r.pipeline_id) ? undefined : "Validation failed: pipeline_id: Parameter 'pipeline_id' is required"),
};

// v1-only resources: Pipedrive's v2 has no leads CRUD and no notes.

const leads: ResourceDefinition = {
  name: 'leads',
  version: 'v1',
  label: 'Lead',
  pagination: 'offset',
  updateMethod: 'PATCH',
  uuid: true,
  emptyListIsNull: false,
  filters: ['owner_id', 'person_id', 'organization_id'],
  time: isoMillis,
  defaults: ({ userId }) => ({
    title: undefined,
    owner_id: userId,
    person_id: null,
    organization_id: null,
    label_ids: [],
    value: null,
    expected_close_date: null,
    is_archived: false,
    was_seen: false,
    visible_to: '3',
    channel: null,
  }),
  system: ({ userId }) => ({ creator_id: userId, source_name: 'API', origin: 'API', next_activity_id: null, cc_email: null }),
  invalid: (r) =>
    requireText(r, 'title') ??
    badIdField(r) ??
    (r.person_id == null && r.organization_id == null ? 'A lead must be linked to a person or an organization' : undefined),
};

const notes: ResourceDefinition = {
  name: 'notes',
  version: 'v1',
  label: 'Note',
  pagination: 'offset',
  updateMethod: 'PUT',
  uuid: false,
  // Legacy v1 list endpoints answer `data: null` rather than `[]` when nothing matches.
  emptyListIsNull: true,
  filters: ['user_id', 'deal_id', 'person_id', 'org_id', 'lead_id'],
  time: v1Time,
  defaults: ({ userId }) => ({
    content: undefined,
    user_id: userId,
    deal_id: null,
    person_id: null,
    org_id: null,
    lead_id: null,
    pinned_to_deal_flag: false,
    pinned_to_person_flag: false,
    pinned_to_organization_flag: false,
    pinned_to_lead_flag: false,
  }),
  system: () => ({ active_flag: true }),
  invalid: (r) =>
    requireText(r, 'content') ??
    badIdField({ ...r, lead_id: null }) ??
    (r.deal_id == null && r.person_id == null && r.org_id == null && r.lead_id == null
      ? 'A note must be attached to a deal, person, organization or lead'
      : undefined),
};

/** Every emulated resource by name. */
export const RESOURCES: Record<ResourceName, ResourceDefinition> = {
  deals,
  persons,
  organizations,
  activities,
  products,
  pipelines,
  stages,
  leads,
  notes,
};

/** Routable resources keyed `v2/deals`, `v1/leads`... */
export const RESOURCES_BY_PATH = new Map(Object.values(RESOURCES).map((def) => [`${def.version}/${def.name}`, def]));

/** v1 paths that v2 replaced; out of support since 2026-08-01. */
export const RETIRED_V1 = new Set<string>(
  Object.values(RESOURCES)
    .filter((def) => def.version === 'v2')
    .map((def) => def.name),
);
