import { encodeValue } from './document-json.js';
import type { FieldCondition, Filter, FindOptions, Scalar } from './port.js';

export type SqlValue = string | number | null;

/** A piece of SQL and the values for its `?` placeholders, in order. */
export interface Sql {
  text: string;
  params: SqlValue[];
}

/**
 * How one field of a stored document reads in SQL. Documents are JSON text (see document-json.ts);
 * `_id` and the expiry are also real columns.
 */
interface FieldSql {
  /** The field's value: SQL text, number or integer (booleans read as 0/1, objects and arrays as JSON text). */
  value: string;
  /** Its JSON type (`'text'`, `'integer'`, `'real'`, `'true'`, `'false'`, `'null'`, `'object'`, …), SQL NULL when absent. */
  type: string;
  /** Its milliseconds when it is a Date. */
  date: string;
}

const FIELD_NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/**
 * A field's JSON path as a SQL string literal: `a.b` is `'$."a"."b"'`. Field names are part of the
 * SQL (an expression index only serves the exact expression it was built on), so only plain names
 * are accepted; values are always bound.
 */
export function jsonPath(field: string): string {
  if (!FIELD_NAME.test(field)) throw new Error(`unsupported field name: ${field}`);
  return `'$${field
    .split('.')
    .map((part) => `."${part}"`)
    .join('')}'`;
}

/** The expression an index on `field` is built on, and which filters on it use. */
export function fieldExpression(field: string): string {
  return fieldSql(field).value;
}

function fieldSql(field: string): FieldSql {
  if (field === '_id') return { value: '_id', type: `'text'`, date: 'NULL' };
  const path = jsonPath(field);
  return {
    value: `json_extract(doc, ${path})`,
    type: `json_type(doc, ${path})`,
    date: field === 'expiresAt' ? 'expiresAt' : `json_extract(doc, ${jsonPath(`${field}.$date`)})`,
  };
}

/**
 * The filter as a WHERE condition with MongoDB's meaning: a missing field equals null, values of
 * different types never compare (a number is not a boolean, a string is not a date), and `$ne` /
 * `$nin` match documents lacking the field. Array fields are not searched element-wise.
 */
export function whereClause(filter: Filter): Sql {
  const params: SqlValue[] = [];
  const terms: string[] = [];
  for (const [field, value] of Object.entries(filter)) terms.push(...conditionTerms(fieldSql(field), asCondition(value), params, field === '_id'));
  return { text: terms.length ? terms.join(' AND ') : '1', params };
}

export function orderClause(sort: FindOptions['sort']): string {
  const keys = Object.entries(sort ?? {});
  if (keys.length === 0) return '';
  const by = keys.map(([field, direction]) => {
    const f = fieldSql(field);
    return `${field === '_id' ? f.value : `coalesce(${f.date}, ${f.value})`} ${direction === -1 ? 'DESC' : 'ASC'}`;
  });
  return ` ORDER BY ${[...by, 'rowid'].join(', ')}`;
}

/** `doc` with the given fields replaced (MongoDB's `$set`; undefined values are left out, as the driver does). */
export function setExpression(set: object): Sql {
  const params: SqlValue[] = [];
  const pairs: string[] = [];
  for (const [field, value] of Object.entries(set)) {
    if (value === undefined) continue;
    pairs.push(`${jsonPath(field)}, json(?)`);
    params.push(JSON.stringify(encodeValue(value)));
  }
  return { text: pairs.length ? `json_set(doc, ${pairs.join(', ')})` : 'doc', params };
}

export function expiryOf(doc: { expiresAt?: unknown }): number | null {
  return doc.expiresAt instanceof Date ? doc.expiresAt.getTime() : null;
}

function asCondition(value: Scalar | FieldCondition): FieldCondition {
  const isCondition = value !== null && typeof value === 'object' && !(value instanceof Date);
  return isCondition ? value : { $eq: value };
}

const RANGE = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;

function conditionTerms(f: FieldSql, c: FieldCondition, params: SqlValue[], isId: boolean): string[] {
  const terms: string[] = [];
  if (c.$eq !== undefined) terms.push(equals(f, c.$eq, params));
  if (c.$ne !== undefined) terms.push(`NOT ifnull(${equals(f, c.$ne, params)}, 0)`);
  if (c.$in !== undefined) terms.push(isId ? idIn(c.$in, params) : anyOf(f, c.$in, params));
  if (c.$nin !== undefined) terms.push(`NOT ifnull(${anyOf(f, c.$nin, params)}, 0)`);
  for (const [operator, sqlOperator] of Object.entries(RANGE) as [keyof typeof RANGE, string][]) {
    const bound = c[operator];
    if (bound !== undefined) terms.push(compares(f, sqlOperator, bound, params));
  }
  if (c.$exists !== undefined) terms.push(`${f.type} IS ${c.$exists ? 'NOT NULL' : 'NULL'}`);
  return terms;
}

/** True or false for a present value; possibly NULL (read: false) for a missing one. */
function equals(f: FieldSql, value: Scalar, params: SqlValue[]): string {
  if (value === null) return `(${f.type} IS NULL OR ${f.type} = 'null')`;
  if (typeof value === 'boolean') return `${f.type} = '${String(value)}'`;
  if (value instanceof Date) {
    params.push(value.getTime());
    return `${f.date} = ?`;
  }
  params.push(value);
  return typeof value === 'number' ? `(${f.value} = ? AND ${f.type} IN ('integer', 'real'))` : `${f.value} = ?`;
}

function anyOf(f: FieldSql, values: Scalar[], params: SqlValue[]): string {
  return values.length ? `(${values.map((value) => equals(f, value, params)).join(' OR ')})` : '0';
}

/** One statement whatever the number of ids: they are bound as one JSON array. */
function idIn(values: Scalar[], params: SqlValue[]): string {
  params.push(JSON.stringify(values.filter((value) => typeof value === 'string')));
  return `_id IN (SELECT value FROM json_each(?))`;
}

function compares(f: FieldSql, operator: string, bound: Scalar, params: SqlValue[]): string {
  if (bound === null) throw new Error('a range condition needs a value, not null');
  if (bound instanceof Date) {
    params.push(bound.getTime());
    return `${f.date} ${operator} ?`;
  }
  params.push(typeof bound === 'boolean' ? Number(bound) : bound);
  const types = typeof bound === 'number' ? `'integer', 'real'` : typeof bound === 'boolean' ? `'true', 'false'` : `'text'`;
  return `(${f.value} ${operator} ? AND ${f.type} IN (${types}))`;
}
