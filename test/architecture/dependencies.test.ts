import path from 'node:path';
import { REPO_ROOT } from '../../server/policy/paths.js';
import { cruise, type Violation } from './cruise.js';
import { FUNCTION_LINE_LIMIT, functionLengths } from './function-lengths.js';

const FIXTURE = path.join(REPO_ROOT, 'test/architecture/fixtures/violations');

/** A violation as one line, so that a failure reads as the list of what to fix. */
const line = (v: Violation) => `${v.rule}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.join(' → ')})` : ''}`;

describe('the architecture check (.dependency-cruiser.cjs)', () => {
  it('finds no violation in server/', async () => {
    const { cruised, violations } = await cruise(REPO_ROOT);
    expect(cruised).toBeGreaterThan(50);
    expect(violations.map(line)).toEqual([]);
  }, 120_000);

  describe('on a fixture that breaks each rule once or twice', () => {
    let violations: Violation[];
    beforeAll(async () => {
      ({ violations } = await cruise(FIXTURE));
    }, 120_000);

    it('catches Koa and @koa/* below the handlers, type-only imports included, and allows them in server/http and the root', () => {
      expect(violations.filter((v) => v.rule === 'koa-only-in-handlers').map((v) => v.from).sort()).toEqual([
        'server/oauth/takes-context.ts',
        'server/sessions/uses-router.ts',
      ]);
    });

    it('catches imports of server/http and the composition root from below', () => {
      expect(violations.filter((v) => v.rule === 'no-upward-imports').map((v) => `${v.from} → ${v.to}`).sort()).toEqual([
        'server/store/imports-root.ts → server/app.ts',
        'server/uma/calls-up.ts → server/http/handler.ts',
      ]);
    });

    it('catches a cycle made of type-only imports', () => {
      const cycles = violations.filter((v) => v.rule === 'no-cycles');
      expect(cycles.length).toBeGreaterThan(0);
      for (const v of cycles) expect(new Set([v.from, ...(v.cycle ?? [])])).toEqual(new Set(['server/policy/types-a.ts', 'server/policy/types-b.ts']));
    });

    it('finds nothing else', () => {
      expect(violations.filter((v) => !['koa-only-in-handlers', 'no-upward-imports', 'no-cycles'].includes(v.rule))).toEqual([]);
    });
  });
});

describe(`functions in server/ (under ${FUNCTION_LINE_LIMIT} lines)`, () => {
  it('are all shorter than the limit', async () => {
    const tooLong = (await functionLengths(path.join(REPO_ROOT, 'server'))).filter((f) => f.lines >= FUNCTION_LINE_LIMIT);
    expect(tooLong.map((f) => `${f.at} ${f.name}: ${f.lines} lines`)).toEqual([]);
  }, 60_000);

  it('are measured from the first line to the last, whatever their kind (a fixture of 59, 60 and 70 lines)', async () => {
    const lengths = await functionLengths(path.join(FIXTURE, 'server'));
    expect(lengths.filter((f) => f.lines >= FUNCTION_LINE_LIMIT).map((f) => `${f.at} ${f.name}: ${f.lines}`)).toEqual([
      'oauth/long-functions.ts:128 seventyLines: 70',
      'oauth/long-functions.ts:4 sixtyLines: 60',
    ]);
    expect(lengths.find((f) => f.name === 'fiftyNineLines')?.lines).toBe(59);
  }, 60_000);
});
