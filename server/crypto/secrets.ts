import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A high-entropy secret for a client or a token: 256 random bits, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Machine secrets (client secrets, refresh tokens, registration access tokens) have 256 bits of
 * entropy, so one SHA-256 is enough to make a stolen table useless; passwords use scrypt instead.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
