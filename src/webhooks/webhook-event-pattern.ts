/** v2 webhook actions Pipedrive delivers (v2 has no `merged`: a merge is one delete and one change). */
export const WEBHOOK_ACTIONS = ['create', 'change', 'delete'] as const;
/** v2 webhook objects (pipeline, stage and activityType are v1-only). */
export const WEBHOOK_OBJECTS = ['activity', 'deal', 'lead', 'note', 'organization', 'person', 'product', 'user'] as const;

/** What happened to the record: a v2 webhook action. */
export type PipedriveWebhookAction = (typeof WEBHOOK_ACTIONS)[number];
/** Which kind of record: a v2 webhook object. */
export type PipedriveWebhookObject = (typeof WEBHOOK_OBJECTS)[number];

/** `action.object` as subscribed to or handled: `change.deal`, `*.deal`, `create.*`, `*.*`. */
export type PipedriveWebhookEventName = `${PipedriveWebhookAction | '*'}.${PipedriveWebhookObject | '*'}`;

export interface EventPattern {
  action: PipedriveWebhookAction | '*';
  object: PipedriveWebhookObject | '*';
}

/** `action.object` into its parts; undefined when either part is not a v2 action/object or `*`. */
export function parseEventPattern(name: string): EventPattern | undefined {
  const match = /^\s*([a-z*]+)\.([a-z*]+)\s*$/.exec(name);
  if (!match) return undefined;
  const [, action, object] = match as unknown as [string, string, string];
  const actionOk = action === '*' || (WEBHOOK_ACTIONS as readonly string[]).includes(action);
  const objectOk = object === '*' || (WEBHOOK_OBJECTS as readonly string[]).includes(object);
  return actionOk && objectOk ? ({ action, object } as EventPattern) : undefined;
}

/** Whether a delivered event (`change`, `deal`) is one the pattern names. */
export function matchesPattern(pattern: EventPattern, action: string, object: string): boolean {
  return (pattern.action === '*' || pattern.action === action) && (pattern.object === '*' || pattern.object === object);
}
