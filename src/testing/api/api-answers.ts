import { STATUS_CODES } from 'node:http';

export const ERROR_INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

/** An API answer before headers: what the route decided. */
export interface Answer {
  status: number;
  body: unknown;
}

export function ok(data: unknown, additionalData?: unknown, status = 200): Answer {
  const body = additionalData === undefined ? { success: true, data } : { success: true, data, additional_data: additionalData };
  return { status, body };
}

/** Pipedrive's error envelope; `code` is the machine-readable v2 code where it has one. */
export function apiError(status: number, error: string, code?: string): Answer {
  return {
    status,
    body: { success: false, error, ...(code && { code }), errorCode: status, error_info: ERROR_INFO, data: null, additional_data: null },
  };
}

export const unauthorized = (): Answer => apiError(401, 'unauthorized access');
export const overLimit = (): Answer => apiError(429, 'Request over limit');
export const unknownRoute = (): Answer => apiError(404, 'Unknown method .');
export const notFound = (label: string): Answer => apiError(404, `${label} not found`, 'ERR_NOT_FOUND');
export const badRequest = (message: string): Answer => apiError(400, message, 'ERR_SCHEMA_VALIDATION_FAILED');
export const statusAnswer = (status: number): Answer => apiError(status, STATUS_CODES[status] ?? 'Error');
