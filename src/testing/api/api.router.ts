import { apiError, ok, unknownRoute, type Answer } from './api-answers.js';
import type { Directory } from '../oauth/directory.js';
import type { ResourceRoutes } from './resource.routes.js';
import { RESOURCES_BY_PATH, RETIRED_V1 } from './resources.js';
import type { ScopedOwner, WebhookRoutes } from './webhooks.routes.js';
import { usersMe } from './users-me.js';

/** Maps `/api/{version}/{resource}[/{id}]` to the handler; the caller is already authenticated. */
export class ApiRouter {
  constructor(
    private readonly resources: ResourceRoutes,
    private readonly directory: Directory,
    private readonly webhooks: WebhookRoutes,
  ) {}

  route(method: string, path: string, query: URLSearchParams, body: unknown, owner: ScopedOwner): Answer {
    // path is `/api/v2/deals/12`: segments are ['', 'api', 'v2', 'deals', '12'].
    const [, , version, name, id, ...rest] = path.split('/');
    if (rest.length > 0 || !name) return unknownRoute();
    if (version === 'v1' && name === 'users' && id === 'me') {
      if (method !== 'GET') return apiError(405, 'Method not allowed');
      const user = this.directory.user(owner.companyId, owner.userId);
      return ok(usersMe(user, this.directory.company(owner.companyId)));
    }
    if (version === 'v1' && name === 'webhooks') return this.webhooks.handle(method, id || undefined, body, owner);
    const def = RESOURCES_BY_PATH.get(`${version}/${name}`);
    if (def) return this.resources.handle(method, def, id || undefined, query, body, owner);
    if (version === 'v1' && RETIRED_V1.has(name)) {
      return apiError(410, `This endpoint is no longer supported; use /api/v2/${name}`, 'ERR_GONE');
    }
    return unknownRoute();
  }
}
