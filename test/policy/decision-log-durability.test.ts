import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DecisionLog } from '../../server/policy/decision-log.js';
import { PolicyEngine } from '../../server/policy/engine.js';
import { openEmbeddedStore } from '../../server/store/embedded.js';
import { storedDecisions } from '../support/decisions.js';
import { consentCases } from './fixtures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const writer = path.join(root, 'test/policy/fixtures/decision-writer.ts');
const ACKS_BEFORE_KILL = 600;

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'assent-decision-durability-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

/** Runs the writer until it has acknowledged `acks` records, SIGKILLs it, and returns the acknowledged ids. */
async function killWriterAfter(acks: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dataDir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const acked: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    acked.push(line.replace(/^ack /, ''));
    if (acked.length === acks) child.kill('SIGKILL');
  }
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`writer ended by ${signal ?? 'exit'} after ${acked.length} acks:\n${stderr}`);
  return acked;
}

test(
  'a decision writer killed with SIGKILL mid-way loses no acknowledged record, and the log opens and goes on',
  async () => {
    const acked = await killWriterAfter(ACKS_BEFORE_KILL);
    expect(acked.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
    expect((await readdir(path.join(dataDir, 'decisions'))).filter((name) => name.endsWith('.ndjson')).length).toBeGreaterThan(1);

    const store = await openEmbeddedStore(dataDir);
    const engine = await PolicyEngine.open();
    const log = await DecisionLog.open(store, engine, { dataDir, decisionRetentionDays: 400, decisionSegmentBytes: 64 * 1024 });
    try {
      const missing: string[] = [];
      for (const id of acked) if (!(await log.find(id))) missing.push(id);
      expect(missing).toEqual([]);
      const { record } = engine.decide('consent', consentCases[0]!.input);
      await log.record(record);
      await expect(log.find(record.id)).resolves.toEqual(record);
      // Every line of every segment is a whole record: the torn tail, if any, was cut off.
      const stored = await storedDecisions({ store, dataDir });
      expect(new Set(stored.map((r) => r.id)).size).toBe(stored.length);
      expect(stored.at(-1)).toEqual(record);
    } finally {
      await log.close();
      await store.close();
    }
  },
  60_000,
);
