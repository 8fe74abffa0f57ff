/**
 * A trivial keep-alive HTTP server answering every request with a Pipedrive-shaped deal and rate-limit
 * headers (a limit no benchmark reaches). Run as a child process so its CPU is not the client's:
 * it prints `PORT <n>` once listening on 127.0.0.1.
 */
import { createServer } from 'node:http';

const body = JSON.stringify({
  success: true,
  data: {
    id: 1,
    title: 'Benchmark deal',
    owner_id: 1,
    creator_user_id: 1,
    person_id: 2,
    org_id: 3,
    pipeline_id: 1,
    stage_id: 1,
    value: 1500,
    currency: 'EUR',
    status: 'open',
    probability: null,
    expected_close_date: null,
    add_time: '2026-01-01T00:00:00Z',
    update_time: '2026-01-02T00:00:00Z',
    custom_fields: {},
  },
  additional_data: null,
});

const server = createServer((request, response) => {
  request.resume();
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-ratelimit-limit': '100000000',
    'x-ratelimit-remaining': '99999999',
    'x-ratelimit-reset': '2',
  });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`PORT ${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('disconnect', () => server.close(() => process.exit(0)));
