import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  /** The URL the server printed once it listens; rejects if it exits first. */
  listening: Promise<string>;
  /** The exit code once the process has ended. */
  exited: Promise<number | null>;
  output(): { stdout: string; stderr: string };
}

/** Launched and not yet exited: a test that fails before stopping its server must not leave it running. */
const running = new Set<ChildProcessWithoutNullStreams>();

/** The server as `npm start` runs it: a real process, configured only by the environment given. */
export function launchServer(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { PATH: process.env.PATH ?? '', ASSENT_LOG_LEVEL: 'warn', ...env },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /Assent is listening on (\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  return { child, listening, exited, output: () => ({ stdout, stderr }) };
}

/** SIGTERM, then the exit code (0 after a clean shutdown). */
export async function stopServer(server: ServerProcess): Promise<number | null> {
  server.child.kill('SIGTERM');
  return server.exited;
}

/** For afterEach: kills whatever a test launched and did not stop (it failed part-way). */
export async function killLeftoverServers(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
}
