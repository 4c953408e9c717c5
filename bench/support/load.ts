/**
 * A closed-loop HTTP load generator: `concurrency` workers, each with its own keep-alive
 * connection (node:http Agent, maxSockets = concurrency), send POSTs back to back for a warm-up
 * and then a fixed duration. The same code drives every server.
 */
import http from 'node:http';

export interface PostTarget {
  url: string;
  path: string;
  headers: Record<string, string>;
  /** The body of the i-th request. */
  body(i: number): string;
  /** Whether a 2xx answer is the expected one (non-2xx answers are always errors). */
  ok(body: string): boolean;
}

export interface CellResult {
  /** Requests measured. */
  requests: number;
  /** Requests sent in all, warm-up included. */
  sent: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** The first error seen, to say what went wrong. */
  firstError?: string;
}

export interface Answer {
  status: number;
  body: string;
}

export function post(agent: http.Agent, url: string, path: string, headers: Record<string, string>, body: string): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: hostname, port, path, method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runCell(target: PostTarget, concurrency: number, warmupMs: number, durationMs: number): Promise<CellResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  let sent = 0;
  try {
    const phase = async (ms: number, record: boolean) => {
      const latencies: number[] = [];
      let errors = 0;
      let firstError: string | undefined;
      const deadline = performance.now() + ms;
      const worker = async () => {
        while (performance.now() < deadline) {
          const body = target.body(sent++);
          const started = performance.now();
          let failure: string | undefined;
          try {
            const answer = await post(agent, target.url, target.path, target.headers, body);
            if (answer.status < 200 || answer.status > 299) failure = `${answer.status} ${answer.body.slice(0, 200)}`;
            else if (!target.ok(answer.body)) failure = `unexpected answer ${answer.body.slice(0, 200)}`;
          } catch (err) {
            failure = String(err);
          }
          if (!record) continue;
          latencies.push(performance.now() - started);
          if (failure !== undefined) {
            errors++;
            firstError ??= failure;
          }
        }
      };
      const start = performance.now();
      await Promise.all(Array.from({ length: concurrency }, worker));
      return { latencies, errors, firstError, elapsedMs: performance.now() - start };
    };
    await phase(warmupMs, false);
    const { latencies, errors, firstError, elapsedMs } = await phase(durationMs, true);
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    return {
      requests: latencies.length,
      sent,
      errors,
      perSecond: (latencies.length / elapsedMs) * 1000,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      ...(firstError !== undefined ? { firstError } : {}),
    };
  } finally {
    agent.destroy();
  }
}
