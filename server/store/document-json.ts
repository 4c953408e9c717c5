/**
 * How the embedded store keeps a document: JSON text in which every Date is `{"$date": <ms>}`, so
 * dates come back as Dates and SQL can compare them (`json_extract(doc, '$.field."$date"')`).
 * Converting before JSON.stringify lets it run without a replacer, which would only ever see the
 * ISO string Date.prototype.toJSON has already made.
 */
export function encodeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return { $date: value.getTime() };
  if (Array.isArray(value)) return value.map(encodeValue);
  const encoded: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) encoded[key] = encodeValue(field);
  return encoded;
}

export function encodeDocument(doc: object): string {
  return JSON.stringify(encodeValue(doc));
}

export function decodeDocument<T>(text: string): T {
  return decodeValue(JSON.parse(text)) as T;
}

function decodeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decodeValue(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (typeof record.$date === 'number' && Object.keys(record).length === 1) return new Date(record.$date);
  for (const key of Object.keys(record)) record[key] = decodeValue(record[key]);
  return record;
}
