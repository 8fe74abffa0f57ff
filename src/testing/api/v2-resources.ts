import { badIdField, isoSeconds, requireText, type ResourceDefinition } from './resource-definition.js';

const v2 = {
  version: 'v2',
  pagination: 'cursor',
  updateMethod: 'PATCH',
  uuid: false,
  emptyListIsNull: false,
  time: isoSeconds,
} as const;

const owned = { visible_to: 3, label_ids: [] as number[], custom_fields: {} };

export const deals: ResourceDefinition = {
  ...v2,
  name: 'deals',
  label: 'Deal',
  filters: ['owner_id', 'person_id', 'org_id', 'pipeline_id', 'stage_id', 'status'],
  defaults: ({ userId }) => ({
    title: undefined, owner_id: userId, person_id: null, org_id: null, pipeline_id: 1, stage_id: 1,
    value: 0, currency: 'EUR', status: 'open', probability: null, lost_reason: null, expected_close_date: null,
    close_time: null, won_time: null, lost_time: null, ...owned,
  }),
  system: ({ userId }) => ({ creator_user_id: userId, is_deleted: false, stage_change_time: null }),
  invalid: (r) => requireText(r, 'title') ?? badIdField(r),
};

export const persons: ResourceDefinition = {
  ...v2,
  name: 'persons',
  label: 'Person',
  filters: ['owner_id', 'org_id'],
  defaults: ({ userId }) => ({
    name: undefined, first_name: null, last_name: null, owner_id: userId, org_id: null, emails: [], phones: [], ...owned,
  }),
  system: () => ({ is_deleted: false }),
  invalid: (r) => requireText(r, 'name') ?? badIdField(r),
};

export const organizations: ResourceDefinition = {
  ...v2,
  name: 'organizations',
  label: 'Organization',
  filters: ['owner_id'],
  defaults: ({ userId }) => ({ name: undefined, owner_id: userId, address: null, ...owned }),
  system: () => ({ is_deleted: false }),
  invalid: (r) => requireText(r, 'name') ?? badIdField(r),
};

export const activities: ResourceDefinition = {
  ...v2,
  name: 'activities',
  label: 'Activity',
  filters: ['owner_id', 'deal_id', 'lead_id', 'person_id', 'org_id', 'done'],
  defaults: ({ userId }) => ({
    subject: 'Task', type: 'task', owner_id: userId, deal_id: null, lead_id: null, person_id: null, org_id: null,
    due_date: null, due_time: null, duration: null, busy: false, done: false, note: null, location: null, priority: null,
  }),
  system: ({ userId }) => ({ creator_user_id: userId, is_deleted: false }),
  invalid: (r) => badIdField({ ...r, lead_id: null }),
};

export const products: ResourceDefinition = {
  ...v2,
  name: 'products',
  label: 'Product',
  filters: ['owner_id'],
  defaults: ({ userId }) => ({
    name: undefined, code: null, description: null, unit: null, tax: 0, category: null, owner_id: userId,
    is_linkable: true, prices: [], billing_frequency: 'one-time', ...owned,
  }),
  system: () => ({ is_deleted: false }),
  invalid: (r) => requireText(r, 'name') ?? badIdField(r),
};

export const pipelines: ResourceDefinition = {
  ...v2,
  name: 'pipelines',
  label: 'Pipeline',
  filters: [],
  defaults: ({ id }) => ({ name: undefined, order_nr: id, is_deal_probability_enabled: false }),
  system: () => ({ is_deleted: false, is_selected: false }),
  invalid: (r) => requireText(r, 'name'),
};

export const stages: ResourceDefinition = {
  ...v2,
  name: 'stages',
  label: 'Stage',
  filters: ['pipeline_id'],
  defaults: ({ id }) => ({
    name: undefined, pipeline_id: undefined, order_nr: id, deal_probability: 100, is_deal_rot_enabled: false, days_to_rotten: null,
  }),
  system: () => ({ is_deleted: false }),
  invalid: (r) =>
    requireText(r, 'name') ??
    (Number.isInteger(r.pipeline_id) ? undefined : "Validation failed: pipeline_id: Parameter 'pipeline_id' is required"),
};
