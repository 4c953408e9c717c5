import type { DecisionRecord } from '../engine.js';
import { ownerOf } from './sink.js';

/**
 * One decision as one line of NDJSON, the unit of the file log and of its archives:
 * `{"id","entrypoint","bundleDigest","decidedAt","ownerId"?,"input","result"}`, input and result
 * as JSON values (so `jq '.input'` reads them). The input is spliced in as the exact text the
 * policy was given (`inputJson`, which is `JSON.stringify(input)`), so reading it back and
 * stringifying it again gives that text byte for byte, which is what replay needs.
 */
export function lineOf(record: DecisionRecord): string {
  const owner = ownerOf(record);
  return (
    `{"id":${JSON.stringify(record.id)},"entrypoint":${JSON.stringify(record.entrypoint)},` +
    `"bundleDigest":${JSON.stringify(record.bundleDigest)},"decidedAt":${JSON.stringify(record.decidedAt.toISOString())},` +
    (owner === undefined ? '' : `"ownerId":${JSON.stringify(owner)},`) +
    `"input":${record.inputJson},"result":${JSON.stringify(record.result)}}\n`
  );
}

interface Line {
  id: string;
  entrypoint: DecisionRecord['entrypoint'];
  bundleDigest: string;
  decidedAt: string;
  ownerId?: string;
  input: DecisionRecord['input'];
  result: DecisionRecord['result'];
}

/** The record a line holds; throws on text that is not such a line. */
export function recordOfLine(text: string): DecisionRecord {
  const line = JSON.parse(text) as Line;
  const decidedAt = new Date(line.decidedAt);
  if (typeof line.id !== 'string' || typeof line.entrypoint !== 'string' || typeof line.bundleDigest !== 'string' || Number.isNaN(decidedAt.getTime()) || line.input === undefined || line.result === undefined) {
    throw new SyntaxError('not a decision record');
  }
  return {
    id: line.id,
    entrypoint: line.entrypoint,
    bundleDigest: line.bundleDigest,
    input: line.input,
    inputJson: JSON.stringify(line.input),
    result: line.result,
    decidedAt,
  };
}
