import { executeRequest } from '../src/client/execute-request.js';
import { HttpPools } from '../src/client/http-pools.js';
import { RateLimiters } from '../src/client/rate-limiters.js';
import { Pool } from 'undici';
import { startChildServer } from './support/child-server.js';
import { load } from './support/load.js';

const server = await startChildServer('pipedrive-shaped-server.ts');
const token = { connectionId: 'c', accessToken: 'tok', apiDomain: server.url, expiresAt: Date.now() + 3600_000 };
const ctx = { tokens: { getAccessToken: () => Promise.resolve(token) }, pools: new HttpPools(32), limiters: new RateLimiters(), options: { timeoutMs: 30000, maxRetries: 2, maxRateLimitRetries: 3, connectionsPerOrigin: 32 } };
const pool = new Pool(server.url, { connections: 32 });
const raw = async () => { const r = await pool.request({ method: 'GET', path: '/api/v2/deals/1', headers: { authorization: 'Bearer tok' } }); return ((await r.body.json()) as any).data; };
const cl = () => executeRequest(ctx, 'c', 'GET', '/v2/deals/1');
const mode = process.argv[2] ?? 'both';
for (let i = 0; i < 4; i++) {
  if (mode !== 'client') { const r = await load(20000, 32, raw); console.log("raw", Math.round(r.perSecond), r.cpuUsPerRequest.toFixed(1)); };
  if (mode !== 'raw') { const r = await load(20000, 32, cl); console.log("client", Math.round(r.perSecond), r.cpuUsPerRequest.toFixed(1)); };
}
await pool.close(); await ctx.pools.close(); ctx.limiters.close(); await server.close();
