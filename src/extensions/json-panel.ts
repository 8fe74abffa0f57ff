import { PipedriveError } from '../errors/pipedrive.errors.js';

/**
 * The answer of a JSON panel endpoint, which Pipedrive's server fetches and renders in the detail
 * view's sidebar (https://pipedrive.readme.io/docs/app-extensions-json-panels). Field names and
 * their types must match the panel's JSON data structure registered in Developer Hub.
 */
export interface PipedriveJsonPanel {
  /** The panel's objects (at most {@link JSON_PANEL_LIMITS}.objects). */
  data: PipedriveJsonPanelObject[];
  /** The "See more" link in the panel's footer. */
  external_link?: PipedriveJsonPanelLink;
  /** The app-settings link of the panel's menu. */
  settings?: { url: string };
}

/** One object of a panel: an id, an optional header, and its fields by the names of the data structure. */
export interface PipedriveJsonPanelObject {
  id: string | number;
  header?: string;
  [field: string]: PipedriveJsonPanelValue | undefined;
}

/** A field value as the panel's data structure types it (text, numbers, dates, links, labels...). */
export type PipedriveJsonPanelValue =
  | string
  | number
  | boolean
  | null
  | PipedriveJsonPanelLink
  | { code: string; value: number }
  | { label: string; color?: string }
  | { value: string }
  | PipedriveJsonPanelValue[];

/** A link as panels render it. */
export interface PipedriveJsonPanelLink {
  url: string;
  label: string;
}

/** What Pipedrive renders at most: more objects or fields are cut off in the UI. */
export const JSON_PANEL_LIMITS = { objects: 5, fieldsPerObject: 10 } as const;

/** A panel answer that would not render as written; a programming error, thrown before anything is sent. */
export class PipedriveJsonPanelError extends PipedriveError {}

/**
 * Builds a {@link PipedriveJsonPanel} and checks it against what Pipedrive renders, e.g.
 * `return jsonPanel().object({ id: deal.id, header: deal.title, value: { code: 'EUR', value: 10 } }).link(url, 'Open').build();`
 */
export class PipedriveJsonPanelBuilder {
  private readonly objects: PipedriveJsonPanelObject[] = [];
  private externalLink?: PipedriveJsonPanelLink;
  private settingsUrl?: string;

  /** Adds an object; fields whose value is `undefined` are left out. */
  object(object: PipedriveJsonPanelObject): this {
    const fields = Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
    const count = Object.keys(fields).filter((key) => key !== 'id' && key !== 'header').length;
    if (count > JSON_PANEL_LIMITS.fieldsPerObject) {
      throw new PipedriveJsonPanelError(
        `A JSON panel object shows at most ${JSON_PANEL_LIMITS.fieldsPerObject} fields; object ${object.id} has ${count}.`,
      );
    }
    if (this.objects.length >= JSON_PANEL_LIMITS.objects) {
      throw new PipedriveJsonPanelError(`A JSON panel shows at most ${JSON_PANEL_LIMITS.objects} objects; link to the rest with link().`);
    }
    this.objects.push(fields as PipedriveJsonPanelObject);
    return this;
  }

  /** The footer's "See more" link. */
  link(url: string, label: string): this {
    this.externalLink = { url: checkedUrl(url), label };
    return this;
  }

  /** The link to the app's settings in the panel's menu. */
  settings(url: string): this {
    this.settingsUrl = checkedUrl(url);
    return this;
  }

  /** The panel answer, to return from the route. */
  build(): PipedriveJsonPanel {
    return {
      data: [...this.objects],
      ...(this.externalLink && { external_link: this.externalLink }),
      ...(this.settingsUrl && { settings: { url: this.settingsUrl } }),
    };
  }
}

/** Starts a JSON panel answer. */
export const jsonPanel = (): PipedriveJsonPanelBuilder => new PipedriveJsonPanelBuilder();

function checkedUrl(url: string): string {
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    throw new PipedriveJsonPanelError('JSON panel links must be absolute http(s) URLs.');
  }
  return url;
}
