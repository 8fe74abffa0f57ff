import { PipedriveError } from './pipedrive.errors.js';

/**
 * A custom field was named that the company does not have, even after its definitions were fetched
 * again. `known` lists the names it does have, so a typo or a renamed field is plain to see.
 */
export class PipedriveUnknownCustomFieldError extends PipedriveError {
  constructor(
    /** `deal`, `person`, `organization`, `product` or `lead`. */
    readonly entity: string,
    /** The name asked for. */
    readonly fieldName: string,
    /** The names of the entity's custom fields in this company. */
    readonly known: readonly string[],
  ) {
    super(
      `Pipedrive ${entity} custom field "${fieldName}" does not exist in this company. ` +
        `Known ${entity} custom fields: ${known.length > 0 ? known.map((name) => `"${name}"`).join(', ') : '(none)'}.`,
    );
  }
}

/** An enum or set custom field was given a label that is none of its options; `known` lists them. */
export class PipedriveUnknownCustomFieldOptionError extends PipedriveError {
  constructor(
    readonly entity: string,
    readonly fieldName: string,
    /** The label asked for. */
    readonly label: string,
    /** The field's option labels. */
    readonly known: readonly string[],
  ) {
    super(
      `"${label}" is not an option of Pipedrive ${entity} custom field "${fieldName}". ` +
        `Its options: ${known.map((option) => `"${option}"`).join(', ')}.`,
    );
  }
}
