import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';

/** How many items a list route of the reference app returns: `?limit`, with this default and ceiling. */
export const LIST_LIMIT = {
  /** Items when `?limit` is absent. */
  default: 100,
  /** Largest `?limit` accepted: one Pipedrive page, so one list route costs one Pipedrive call. */
  max: 500,
} as const;

const listQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'must be one whole number')
    .transform(Number)
    .pipe(z.number().min(1).max(LIST_LIMIT.max))
    .optional(),
});

export interface ListQueryDto {
  limit: number;
}

/** Reads `?limit`: a single decimal string from 1 to LIST_LIMIT.max (a repeated `limit` is refused). */
export function parseListQuery(query: unknown): ListQueryDto {
  const parsed = listQuerySchema.safeParse(query ?? {});
  if (!parsed.success) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'invalid_query',
      message: parsed.error.issues
        .map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message} (1 to ${LIST_LIMIT.max}, default ${LIST_LIMIT.default})`)
        .join('; '),
    });
  }
  return { limit: parsed.data.limit ?? LIST_LIMIT.default };
}
