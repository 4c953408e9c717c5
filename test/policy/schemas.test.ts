import { readFile } from 'node:fs/promises';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { PolicyEngine } from '../../server/policy/engine.js';
import { REPO_ROOT } from '../../server/policy/paths.js';
import { consentCases } from './fixtures.js';

async function compile(name: string): Promise<ValidateFunction> {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  formats.default(ajv);
  return ajv.compile(JSON.parse(await readFile(`${REPO_ROOT}schemas/policy/${name}.schema.json`, 'utf8')));
}

describe('consent schemas', () => {
  let engine: PolicyEngine;
  let validInput: ValidateFunction;
  let validOutput: ValidateFunction;
  beforeAll(async () => {
    engine = await PolicyEngine.open();
    validInput = await compile('consent.input');
    validOutput = await compile('consent.output');
  });

  describe.each(consentCases)('$name', ({ input }) => {
    it('is a valid input', () => {
      expect(validInput(input) ? [] : validInput.errors).toEqual([]);
    });

    it('gives a valid output that sorts every requested scope into exactly one of granted, ask, denied', () => {
      const { result } = engine.decide('consent', input);
      expect(validOutput(result) ? [] : validOutput.errors).toEqual([]);
      const sorted = [...result.granted, ...result.ask, ...result.denied.map((d) => d.scope)].sort();
      expect(sorted).toEqual([...new Set(input.requested_scopes)].sort());
    });
  });

  it.each([
    ['a missing clock', { now: undefined }],
    ['a clock that is not RFC 3339', { now: 'June 1st' }],
    ['a scope with a space', { requested_scopes: ['openid profile'] }],
    ['an unexpected field', { extra: true }],
    ['a grant without a time', { prior_grants: [{ client_id: 'growth-chart', scopes: ['openid'] }] }],
  ])('rejects an input with %s', (_name, change) => {
    expect(validInput({ ...consentCases[0]!.input, ...change })).toBe(false);
  });

  it('rejects an output that repeats a scope or gives an unknown reason', () => {
    const output = { granted: [], ask: ['openid', 'openid'], mandatory: [], denied: [] };
    expect(validOutput(output)).toBe(false);
    expect(validOutput({ ...output, ask: [], denied: [{ scope: 'x', reason: 'because' }] })).toBe(false);
  });
});
