import type { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import type { PipedriveConnection } from './pipedrive-token.types.js';

/** The public view of a row: everything but tokens and refresh bookkeeping. */
export function toConnection(row: PipedriveConnectionEntity): PipedriveConnection {
  return {
    id: row.id,
    companyId: row.companyId,
    userId: row.userId,
    apiDomain: row.apiDomain,
    scopes: [...row.scopes],
    status: row.status,
    expiresAt: new Date(row.expiresAt),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}
