import { readFile } from 'node:fs/promises';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { entrypointNames, type EntrypointName } from '../../server/policy/entrypoints.js';
import { REPO_ROOT } from '../../server/policy/paths.js';

export interface EntrypointSchemas {
  input: ValidateFunction;
  output: ValidateFunction;
}

/**
 * schemas/policy/<entrypoint>.{input,output}.schema.json of every entrypoint, compiled strictly,
 * with the schemas they refer to (the claims input's sharing rules).
 */
export async function policySchemas(): Promise<Record<EntrypointName, EntrypointSchemas>> {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  formats.default(ajv);
  ajv.addSchema(JSON.parse(await readFile(`${REPO_ROOT}schemas/sharing-rule.schema.json`, 'utf8')) as object);
  const compile = async (file: string) => ajv.compile(JSON.parse(await readFile(`${REPO_ROOT}schemas/policy/${file}.schema.json`, 'utf8')));
  const entries = await Promise.all(entrypointNames.map(async (name) => [name, { input: await compile(`${name}.input`), output: await compile(`${name}.output`) }] as const));
  return Object.fromEntries(entries) as Record<EntrypointName, EntrypointSchemas>;
}

/** The schema's complaints about `value` ([] when it is valid), so a failure shows them. */
export function violations(validate: ValidateFunction, value: unknown): unknown[] {
  return validate(value) ? [] : (validate.errors ?? ['invalid']);
}
