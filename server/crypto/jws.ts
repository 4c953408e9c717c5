import { sign, type KeyObject } from 'node:crypto';

const DIGEST: Record<string, string> = { ES256: 'sha256', ES384: 'sha384', RS256: 'sha256', RS384: 'sha384' };

/**
 * Compact JWS signing with node:crypto directly. On the token endpoint's hot path this is several
 * times cheaper than going through WebCrypto; verification stays with `jose`.
 */
export function signCompactJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const digest = DIGEST[String(header.alg)];
  if (!digest) throw new Error(`unsupported signing algorithm ${String(header.alg)}`);
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = sign(digest, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function encode(value: Record<string, unknown>) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
