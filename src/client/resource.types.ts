/**
 * The main fields of the records the typed helpers return, as Pipedrive sends them. Not exhaustive:
 * Pipedrive adds fields over time; pass your own type to `client.get<T>()` for the rest.
 */

/** Times are ISO-8601 strings in v2 and `YYYY-MM-DD HH:MM:SS` (UTC) in v1. */
type Timestamp = string;

/** v2 custom fields, keyed by the field's hash. */
export type PipedriveCustomFields = Record<string, unknown>;

/** A deal (v2 `/deals`). */
export interface PipedriveDeal {
  id: number;
  title: string;
  owner_id: number;
  creator_user_id: number;
  person_id: number | null;
  org_id: number | null;
  pipeline_id: number;
  stage_id: number;
  value: number;
  currency: string;
  status: 'open' | 'won' | 'lost';
  probability: number | null;
  expected_close_date: string | null;
  add_time: Timestamp;
  update_time: Timestamp;
  custom_fields: PipedriveCustomFields;
}

/** One e-mail address or phone number of a person. */
export interface PipedriveContactDetail {
  value: string;
  primary: boolean;
  label: string;
}

/** A person (v2 `/persons`). */
export interface PipedrivePerson {
  id: number;
  name: string;
  owner_id: number;
  org_id: number | null;
  emails: PipedriveContactDetail[];
  phones: PipedriveContactDetail[];
  add_time: Timestamp;
  update_time: Timestamp;
  custom_fields: PipedriveCustomFields;
}

/** An organization (v2 `/organizations`). */
export interface PipedriveOrganization {
  id: number;
  name: string;
  owner_id: number;
  add_time: Timestamp;
  update_time: Timestamp;
  custom_fields: PipedriveCustomFields;
}

/** An activity (v2 `/activities`). */
export interface PipedriveActivity {
  id: number;
  subject: string;
  type: string;
  owner_id: number;
  deal_id: number | null;
  lead_id: string | null;
  person_id: number | null;
  org_id: number | null;
  due_date: string | null;
  due_time: string | null;
  done: boolean;
  add_time: Timestamp;
  update_time: Timestamp;
}

/** A pipeline (v2 `/pipelines`). */
export interface PipedrivePipeline {
  id: number;
  name: string;
  order_nr: number;
  is_deleted: boolean;
}

/** A stage of a pipeline (v2 `/stages`). */
export interface PipedriveStage {
  id: number;
  name: string;
  pipeline_id: number;
  order_nr: number;
  deal_probability: number;
  is_deleted: boolean;
}

/** A product as Pipedrive's v2 API returns it. */
export interface PipedriveProduct {
  id: number;
  name: string;
  code: string | null;
  owner_id: number;
  prices: Array<{ price: number; currency: string; cost?: number; overhead_cost?: number }>;
  add_time: Timestamp;
  update_time: Timestamp;
  custom_fields: PipedriveCustomFields;
}

/** v1 lead; ids are UUIDs. Custom fields (the deal fields) are top-level hash keys. */
export interface PipedriveLead {
  id: string;
  title: string;
  owner_id: number;
  person_id: number | null;
  organization_id: number | null;
  value: { amount: number; currency: string } | null;
  is_archived: boolean;
  add_time: Timestamp;
  update_time: Timestamp;
}

/** v1 note, attached to a deal, person, organization or lead. */
export interface PipedriveNote {
  id: number;
  content: string;
  user_id: number;
  deal_id: number | null;
  person_id: number | null;
  org_id: number | null;
  lead_id: string | null;
  add_time: Timestamp;
  update_time: Timestamp;
}

/** `GET /v1/users/me`: the user the connection acts as. */
export interface PipedriveUser {
  id: number;
  name: string;
  email: string;
  company_id: number;
  company_name: string;
  company_domain: string;
  locale: string;
  timezone_name: string;
}
