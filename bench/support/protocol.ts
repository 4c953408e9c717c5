/**
 * What a benchmark server child (bench/support/assent-child.ts, bench/support/oidc-provider-child.ts)
 * tells the parent over IPC once it listens, and how the parent stops it.
 */
export interface ServerReady {
  type: 'ready';
  name: string;
  /** Base URL on 127.0.0.1; the token and introspection endpoints are below it. */
  url: string;
  tokenPath: string;
  introspectionPath: string;
  /** A confidential client_secret_basic client allowed client_credentials and introspection. */
  clientId: string;
  clientSecret: string;
  /** Form body of the measured client_credentials request (gives a JWT access token). */
  tokenForm: string;
  /** Form body of the request for the tokens that are introspected (may differ, see oidc-provider). */
  introspectedTokenForm: string;
  /** How long the server took to start (ms), when the child measured it. */
  startMs?: number;
}

export interface ServerFailed {
  type: 'failed';
  error: string;
}

/** The child's process.cpuUsage() (µs), in answer to a CpuQuery. */
export interface CpuReport {
  type: 'cpu';
  user: number;
  system: number;
}

/** The child's process.memoryUsage() (bytes), in answer to a MemoryQuery. */
export interface MemoryReport {
  type: 'memory';
  rss: number;
  heapUsed: number;
}

export type ChildMessage = ServerReady | ServerFailed | CpuReport | MemoryReport;

/** Parent → child: close and exit normally (so --cpu-prof writes its profile). */
export interface StopMessage {
  type: 'stop';
}

/** Parent → child: report the CPU time used so far. */
export interface CpuQuery {
  type: 'cpu';
}

/** Parent → child: report the memory used now. */
export interface MemoryQuery {
  type: 'memory';
}

export type ParentMessage = StopMessage | CpuQuery | MemoryQuery;

/** Sends the message to the parent, or fails loudly when run without one. */
export function tell(message: ChildMessage): void {
  if (!process.send) throw new Error('bench server children must be spawned with an IPC channel');
  process.send(message);
}

/** Answers CPU and memory queries; runs `close` and exits when the parent says stop or goes away. */
export function serveParent(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`bench child: close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'stop') stop();
    else if (m.type === 'cpu') tell({ type: 'cpu', ...process.cpuUsage() });
    else if (m.type === 'memory') {
      const { rss, heapUsed } = process.memoryUsage();
      tell({ type: 'memory', rss, heapUsed });
    }
  });
  process.on('disconnect', stop);
}
