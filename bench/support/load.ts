import { performance } from 'node:perf_hooks';

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Client-process CPU time per request (user + system), microseconds. */
  cpuUsPerRequest: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Runs `call` `requests` times with `concurrency` callers in flight; measures throughput, latency, CPU. */
export async function load(requests: number, concurrency: number, call: () => Promise<unknown>): Promise<LoadResult> {
  const latencies = new Float64Array(requests);
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < requests; i = next++) {
      const sent = performance.now();
      await call();
      latencies[i] = performance.now() - sent;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort();
  return {
    requests,
    perSecond: (requests / elapsed) * 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuUsPerRequest: (cpu.user + cpu.system) / requests,
  };
}
