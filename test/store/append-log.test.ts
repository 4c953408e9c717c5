import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppendLog } from '../../server/store/append-log.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'assent-append-log-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`);

test('appends made in one turn, written directly or batched, land in the file in order', async () => {
  const file = path.join(dir, 'log');
  const log = new AppendLog(file, 0o644);
  for (const line of lines(0, 50)) log.append(line);
  await log.settled();
  await new Promise((resolve) => setImmediate(resolve));
  for (const line of lines(50, 60)) log.append(line);
  await log.close();
  expect(await readFile(file, 'utf8')).toBe(lines(0, 60).join(''));
});

test('after reopen, appends go to the file now at the path, not to the one it replaced', async () => {
  const file = path.join(dir, 'log');
  const log = new AppendLog(file, 0o644);
  log.append('old\n');
  await log.settled();
  await writeFile(`${file}~`, 'compacted\n');
  await rename(`${file}~`, file);
  await log.reopen();
  log.append('new\n');
  await log.close();
  expect(await readFile(file, 'utf8')).toBe('compacted\nnew\n');
});

test('once a write has failed, every later append fails too', async () => {
  const log = new AppendLog(path.join(dir, 'missing', 'log'), 0o644);
  expect(() => log.append('a\n')).toThrow(/ENOENT/);
  expect(() => log.append('b\n')).toThrow(/ENOENT/);
  await expect(log.close()).resolves.toBeUndefined();
});
