import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Authenticated encryption at rest: AES-256-GCM under a key derived (HKDF-SHA256, random salt) from the configured secret. */
export interface Sealed {
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

const INFO = Buffer.from('assent signing key at rest');

function derive(secret: string, salt: Buffer) {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, INFO, 32));
}

export function seal(plaintext: string, secret: string): Sealed {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(secret, salt), iv);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { salt: salt.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** Throws when the secret is wrong or the sealed data was tampered with. */
export function unseal(sealed: Sealed, secret: string): string {
  const decipher = createDecipheriv('aes-256-gcm', derive(secret, Buffer.from(sealed.salt, 'base64')), Buffer.from(sealed.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
}
