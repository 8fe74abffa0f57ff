import { PipedriveApiError, type PipedriveRateLimitState } from '../errors/pipedrive.errors.js';
import type { PipedriveAdditionalData, PipedriveResponse } from './client.types.js';
import type { Answer } from './send-attempt.js';

interface Envelope {
  data?: unknown;
  additional_data?: PipedriveAdditionalData | null;
  related_objects?: Record<string, unknown> | null;
}

/** Unwraps Pipedrive's `{success, data, additional_data}` envelope of a 2xx answer. */
export function toResponse<T>(
  request: { method: string; path: string },
  answer: Answer,
  rateLimit: PipedriveRateLimitState,
): PipedriveResponse<T> {
  let envelope: Envelope | undefined;
  try {
    envelope = answer.text === '' ? undefined : (JSON.parse(answer.text) as Envelope);
  } catch {
    const { method, path } = request;
    throw new PipedriveApiError(`Pipedrive ${method} ${path} answered ${answer.status} with a body that is not JSON`, {
      status: answer.status,
      method,
      path,
      rateLimit,
    });
  }
  return {
    status: answer.status,
    data: envelope?.data as T,
    additionalData: envelope?.additional_data ?? undefined,
    relatedObjects: envelope?.related_objects ?? undefined,
    rateLimit,
  };
}
