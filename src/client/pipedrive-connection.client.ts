import type { PipedriveRequestOptions, PipedriveResponse, PipedriveHttpMethod } from './client.types.js';
import { executeRequest, type RequestContext } from './execute-request.js';
import { collect, paginate, paginatePages, type PipedrivePaginateOptions } from './pagination.js';
import { PipedriveResource } from './pipedrive-resource.js';
import { PipedriveCustomFields } from './custom-fields.js';
import type { PipedriveSdkApiClass, PipedriveSdkVersion } from './sdk-configuration.js';
import { sdkConfiguration } from './sdk-configuration.js';
import type * as In from './resource-inputs.types.js';
import type * as R from './resource.types.js';

/**
 * Pipedrive's API as one connection (one user of one company). Paths name their version:
 * `/v2/deals`, `/v1/users/me`. Get one from {@link PipedriveClient.forConnection} or `forUser`.
 */
export class PipedriveConnectionClient {
  // v2 resources (cursor pagination, PATCH updates).
  readonly deals = new PipedriveResource<R.PipedriveDeal, In.PipedriveDealInput>(this, '/v2/deals');
  readonly persons = new PipedriveResource<R.PipedrivePerson, In.PipedrivePersonInput>(this, '/v2/persons');
  readonly organizations = new PipedriveResource<R.PipedriveOrganization, In.PipedriveOrganizationInput>(this, '/v2/organizations');
  readonly activities = new PipedriveResource<R.PipedriveActivity, In.PipedriveActivityInput>(this, '/v2/activities');
  readonly pipelines = new PipedriveResource<R.PipedrivePipeline, In.PipedrivePipelineInput>(this, '/v2/pipelines');
  readonly stages = new PipedriveResource<R.PipedriveStage, In.PipedriveStageInput>(this, '/v2/stages');
  readonly products = new PipedriveResource<R.PipedriveProduct, In.PipedriveProductInput>(this, '/v2/products');
  // v1-only resources (offset pagination): leads update with PATCH, notes with PUT.
  readonly leads = new PipedriveResource<R.PipedriveLead, In.PipedriveLeadInput, string>(this, '/v1/leads');
  readonly notes = new PipedriveResource<R.PipedriveNote, In.PipedriveNoteInput>(this, '/v1/notes', 'PUT');
  readonly users = {
    /** The user this connection acts as (`/v1/users/me`). */
    me: (options?: PipedriveRequestOptions) => this.get<R.PipedriveUser>('/v1/users/me', options),
  };

  private lookup: Promise<string> | undefined;
  private fieldsApi: PipedriveCustomFields | undefined;

  constructor(
    private readonly context: RequestContext,
    private connection: string | (() => Promise<string>),
  ) {}

  /** The company's custom fields by name: definitions (cached), reading records, names to hash keys. */
  get customFields(): PipedriveCustomFields {
    return (this.fieldsApi ??= new PipedriveCustomFields(this.context, this));
  }

  /** The connection's id (looked up once when the client came from `forUser`). */
  connectionId(): Promise<string> {
    if (typeof this.connection === 'string') return Promise.resolve(this.connection);
    this.lookup ??= this.connection().then(
      (id) => (this.connection = id),
      (error: unknown) => {
        this.lookup = undefined; // not connected yet: ask again next time
        throw error;
      },
    );
    return this.lookup;
  }

  /** One call with the whole answer: `data`, `additionalData`, `rateLimit`. */
  async request<T>(method: PipedriveHttpMethod, path: string, options?: PipedriveRequestOptions): Promise<PipedriveResponse<T>> {
    const id = typeof this.connection === 'string' ? this.connection : await this.connectionId();
    return executeRequest<T>(this.context, id, method, path, options);
  }

  /** `GET` and the answer's `data`. */
  get<T>(path: string, options?: PipedriveRequestOptions): Promise<T> {
    return this.request<T>('GET', path, options).then(data);
  }

  /** `POST` a JSON body and the answer's `data`. */
  post<T>(path: string, body?: unknown, options?: PipedriveRequestOptions): Promise<T> {
    return this.request<T>('POST', path, { ...options, body }).then(data);
  }

  /** `PATCH` a JSON body and the answer's `data`. */
  patch<T>(path: string, body?: unknown, options?: PipedriveRequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, { ...options, body }).then(data);
  }

  /** `PUT` a JSON body and the answer's `data`. */
  put<T>(path: string, body?: unknown, options?: PipedriveRequestOptions): Promise<T> {
    return this.request<T>('PUT', path, { ...options, body }).then(data);
  }

  /** `DELETE` and the answer's `data`. */
  delete<T>(path: string, options?: PipedriveRequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, options).then(data);
  }

  /** Items of a list endpoint across pages (v2 cursor or v1 offset, by the path's version). */
  paginate<T>(path: string, options?: PipedrivePaginateOptions): AsyncGenerator<T, void, undefined> {
    return paginate<T>((method, p, o) => this.request(method, p, o), path, options);
  }

  /** Whole pages of a list endpoint, for `additionalData` or batch work. */
  pages<T>(path: string, options?: PipedrivePaginateOptions): AsyncGenerator<PipedriveResponse<T[]>, void, undefined> {
    return paginatePages<T>((method, p, o) => this.request(method, p, o), path, options);
  }

  /** Every item of a list endpoint in one array. */
  all<T>(path: string, options?: PipedrivePaginateOptions): Promise<T[]> {
    return collect(this.paginate<T>(path, options));
  }

  /**
   * An API class of the official `pipedrive` SDK (optional peer) acting as this connection, for
   * endpoints the helpers don't cover: `await client.sdk(v2.ProductsApi, 'v2')`. Tokens come from
   * TokenService on each call; the base URL is the api_domain now, so make a new one per unit of work.
   */
  async sdk<A>(Api: PipedriveSdkApiClass<A>, version: PipedriveSdkVersion): Promise<A> {
    const id = await this.connectionId();
    const token = await this.context.tokens.getAccessToken(id);
    return new Api(sdkConfiguration(this.context.tokens, id, token.apiDomain, version));
  }
}

function data<T>(response: PipedriveResponse<T>): T {
  return response.data;
}
