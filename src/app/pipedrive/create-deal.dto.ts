import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';

/** `title` is what Pipedrive requires; the other fields go through as Pipedrive's v2 deal fields. */
const createDealSchema = z.looseObject({
  title: z.string().trim().min(1).max(255),
  value: z.number().nonnegative().optional(),
  currency: z.string().length(3).optional(),
  person_id: z.number().int().positive().optional(),
  org_id: z.number().int().positive().optional(),
  pipeline_id: z.number().int().positive().optional(),
  stage_id: z.number().int().positive().optional(),
});

export type CreateDealDto = z.infer<typeof createDealSchema>;

export function parseCreateDeal(body: unknown): CreateDealDto {
  const parsed = createDealSchema.safeParse(body);
  if (!parsed.success) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'invalid_body',
      message: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
    });
  }
  return parsed.data;
}
