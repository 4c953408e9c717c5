import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStore } from '../../server/store/embedded.js';
import { StartupError } from '../../server/startup-error.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const holder = path.join(root, 'test/store/fixtures/store-holder.ts');
const ROUNDS = 3;
const inUse = /^the data directory .+ is in use by another Assent process; stop it first \(or use MongoDB to run several processes\)$/;

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'assent-lock-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

/** The lines a child prints, read one at a time. */
function linesOf(child: ChildProcess) {
  if (!child.stdout) throw new Error('child has no stdout');
  return createInterface({ input: child.stdout })[Symbol.asyncIterator]();
}

async function nextLine(lines: AsyncIterator<string>) {
  const { value, done } = await lines.next();
  if (done) throw new Error('the child ended before printing what was expected');
  return value;
}

async function expectRefused() {
  const refused = openEmbeddedStore(dataDir);
  await expect(refused).rejects.toBeInstanceOf(StartupError);
  await expect(refused).rejects.toThrow(inUse);
}

/** The state letter of a process (R, S, Z, …) and its thread count from /proc, or undefined once it is gone. */
async function processState(pid: number) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (status === undefined) return undefined;
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];
  return { state: field('State'), threads: Number(field('Threads')) };
}

/** Whether a process has finished dying but has not been reaped: a zombie whose every thread has exited. */
async function isZombie(pid: number) {
  const state = await processState(pid);
  return state?.state === 'Z' && state.threads === 1;
}

test('a second open in the same process is refused with a StartupError; closing releases the directory', async () => {
  const first = await openEmbeddedStore(dataDir);
  await expectRefused();
  await first.close();
  const second = await openEmbeddedStore(dataDir);
  await second.close();
});

test(`a live owner in another process blocks; once it is SIGKILLed the next open succeeds at once (${ROUNDS} rounds)`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', holder, dataDir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    expect(await nextLine(linesOf(child))).toBe('ready');
    await expectRefused();
    child.kill('SIGKILL');
    await exited;
    const store = await openEmbeddedStore(dataDir);
    await store.close();
  }
}, 60_000);

test('an owner killed but not yet reaped (a zombie) does not block', async () => {
  // The holder runs under a parent that never waits for its children (sh exec'ing sleep), so once
  // killed it stays a zombie, pid still taken, until that parent ends.
  const script = `"${process.execPath}" --import tsx "${holder}" "${dataDir}" & echo $!; exec sleep 60`;
  const parent = spawn('sh', ['-c', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const parentExited = new Promise((resolve) => parent.once('exit', resolve));
  try {
    const lines = linesOf(parent);
    const pid = Number(await nextLine(lines));
    expect(await nextLine(lines)).toBe('ready');
    await expectRefused();
    process.kill(pid, 'SIGKILL');
    while (!(await isZombie(pid))) await new Promise((resolve) => setTimeout(resolve, 20));
    const store = await openEmbeddedStore(dataDir);
    expect(await isZombie(pid)).toBe(true);
    await store.close();
  } finally {
    parent.kill('SIGKILL');
    await parentExited;
  }
}, 60_000);
