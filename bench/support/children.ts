/** Starting and stopping the benchmark server children (one Node process per server). */
import { fork, type ChildProcess } from 'node:child_process';
import type { ChildMessage, CpuQuery, CpuReport, MemoryQuery, MemoryReport, ServerReady, StopMessage } from './protocol.js';

export interface RunningChild {
  ready: ServerReady;
  /** What the child wrote to stderr (oidc-provider's development warnings, say). */
  stderr(): string;
  /** CPU time (user + system, µs) the child has used so far. */
  cpuMicros(): Promise<number>;
  /** The child's resident set and V8 heap in use now (bytes). */
  memory(): Promise<{ rss: number; heapUsed: number }>;
  stop(): Promise<void>;
}

/**
 * Forks `entry` under tsx with an IPC channel and waits for its ready message. With
 * BENCH_CPU_PROF=<dir> the child runs with --cpu-prof and writes its profile there on stop.
 */
export async function startChild(entry: string, env: Record<string, string> = {}): Promise<RunningChild> {
  const profileDir = process.env.BENCH_CPU_PROF;
  const execArgv = ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const child: ChildProcess = fork(entry, [], { execArgv, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const errText: Buffer[] = [];
  child.stderr?.on('data', (c: Buffer) => errText.push(c));
  const stderr = () => Buffer.concat(errText).toString('utf8');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const ready = await new Promise<ServerReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry}: not ready after 60 s\n${stderr()}`)), 60_000);
    child.once('message', (m: ChildMessage) => {
      clearTimeout(timer);
      if (m.type === 'ready') resolve(m);
      else if (m.type === 'failed') reject(new Error(`${entry}: ${m.error}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code} before it was ready\n${stderr()}`));
    });
  });

  return {
    ready,
    stderr,
    cpuMicros() {
      return new Promise<number>((resolve, reject) => {
        const onMessage = (m: ChildMessage) => {
          if (m.type !== 'cpu') return;
          child.off('message', onMessage);
          resolve((m satisfies CpuReport).user + m.system);
        };
        child.on('message', onMessage);
        if (!child.send({ type: 'cpu' } satisfies CpuQuery)) reject(new Error(`${entry}: cannot ask for CPU time`));
      });
    },
    memory() {
      return new Promise<{ rss: number; heapUsed: number }>((resolve, reject) => {
        const onMessage = (m: ChildMessage) => {
          if (m.type !== 'memory') return;
          child.off('message', onMessage);
          const { rss, heapUsed } = m satisfies MemoryReport;
          resolve({ rss, heapUsed });
        };
        child.on('message', onMessage);
        if (!child.send({ type: 'memory' } satisfies MemoryQuery)) reject(new Error(`${entry}: cannot ask for memory use`));
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' } satisfies StopMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
