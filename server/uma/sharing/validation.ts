// Validation of sharing rules against schemas/sharing-rule.schema.json, and ajv's errors turned
// into sentences that name which member is wrong and how.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { projectRoot } from '../../config/config.js';
import { invalidRequest } from '../../protocol/errors.js';
import type { SharingRule } from '../../store/repositories/sharing-rules.js';

type Schema = Record<string, unknown>;
let ruleSchema: Schema | undefined;
let compiledRule: ValidateFunction<SharingRule> | undefined;

export function newAjv() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  formats.default(ajv);
  return ajv;
}

function ruleValidator(): ValidateFunction<SharingRule> {
  if (!compiledRule) {
    ruleSchema = JSON.parse(readFileSync(path.join(projectRoot, 'schemas/sharing-rule.schema.json'), 'utf8')) as Schema;
    compiledRule = newAjv().compile<SharingRule>(ruleSchema);
  }
  return compiledRule;
}

/** A new rule id: 16 url-safe characters, as the schema's id pattern allows. */
export const newRuleId = () => randomBytes(12).toString('base64url');

/**
 * The body as a schema-valid sharing rule, or a 400 naming the first problems precisely (which
 * member, what is wrong). `id` fills a missing id (client-chosen ids are kept as given).
 */
export function validateRule(body: unknown, id?: string): SharingRule {
  if (!isObject(body)) throw invalidRequest('a sharing rule must be a JSON object');
  const candidate = structuredClone(body);
  if (candidate.id === undefined && id !== undefined) candidate.id = id;
  const validate = ruleValidator();
  if (!validate(candidate)) throw invalidRequest(describeErrors(candidate, validate.errors ?? [], ruleSchema!));
  const rule = candidate as unknown as SharingRule;
  const { valid_from: from, valid_until: until } = rule.conditions ?? {};
  if (from && until && Date.parse(from) >= Date.parse(until)) throw invalidRequest('conditions/valid_until must be later than conditions/valid_from');
  return rule;
}

/**
 * Turns ajv's errors into sentences. A `oneOf` (grantee, resources) fails in every branch, so only
 * the branch the value was evidently meant for (most of its required members present) speaks.
 */
export function describeErrors(value: unknown, errors: ErrorObject[], schema: Schema): string {
  // Each failed oneOf reports itself once (keyword "oneOf") with the path of the value it judged.
  const chosen = new Map<string, number | undefined>();
  for (const error of errors) {
    if (error.keyword === 'oneOf' && !chosen.has(error.schemaPath)) {
      chosen.set(error.schemaPath, intendedBranch(schema, error.schemaPath, valueAt(value, error.instancePath)));
    }
  }
  const problems: string[] = [];
  for (const error of errors) {
    const branch = /^(.*\/oneOf)(?:\/(\d+))?(\/.*)?$/.exec(error.schemaPath);
    if (!branch) {
      problems.push(messageOf(error));
      continue;
    }
    const [, location = '', index] = branch;
    const pick = chosen.get(location);
    if (pick === undefined && error.keyword === 'oneOf') problems.push(oneOfMessage(schema, location, error.instancePath));
    else if (pick !== undefined && index !== undefined && Number(index) === pick) problems.push(messageOf(error));
  }
  const unique = [...new Set(problems)];
  return unique.length ? unique.slice(0, 5).join('; ') : 'the sharing rule is invalid';
}

function intendedBranch(schema: Schema, location: string, value: unknown): number | undefined {
  const branches = (schemaAt(schema, location) ?? []) as { required?: string[] }[];
  if (!isObject(value)) return undefined;
  let best: number | undefined;
  let bestScore = 0;
  branches.forEach((b, i) => {
    const score = (b.required ?? []).filter((k) => k in value).length;
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  return best;
}

function oneOfMessage(schema: Schema, location: string, instancePath: string): string {
  const branches = (schemaAt(schema, location) ?? []) as { required?: string[] }[];
  const options = branches.map((b) => (b.required ?? []).join(' and '));
  return `${pathOf(instancePath)} must have exactly one of: ${options.join(', ')}`;
}

function messageOf(e: ErrorObject): string {
  const at = pathOf(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${e.instancePath ? `${at}/` : ''}${String(params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${at} has an unknown member "${String(params.additionalProperty)}"`;
    case 'enum':
      return `${at} must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `${at} must be ${JSON.stringify(params.allowedValue)}`;
    case 'format':
      return `${at} must be ${FORMAT_NAMES[String(params.format)] ?? `a valid ${String(params.format)}`}`;
    case 'pattern':
      return `${at} ${at.startsWith('id') ? 'must be 1 to 64 letters, digits, "_" or "-"' : `must match ${String(params.pattern)}`}`;
    default:
      return `${at} ${e.message ?? 'is invalid'}`;
  }
}

const FORMAT_NAMES: Record<string, string> = {
  email: 'an email address',
  uri: 'an absolute URI',
  'date-time': 'an RFC 3339 date-time such as 2026-06-01T00:00:00Z',
};

const pathOf = (instancePath: string) => instancePath.slice(1) || 'the rule';

function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const part of pointer.split('/').slice(1)) current = isObject(current) || Array.isArray(current) ? (current as Record<string, unknown>)[part] : undefined;
  return current;
}

function schemaAt(schema: Schema, schemaPath: string): unknown {
  return valueAt(schema, schemaPath.replace(/^#/, ''));
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
