import { createHash, randomBytes } from 'node:crypto';

/** Every Marquee key starts with this, so leaked keys are easy to scan for. */
export const API_KEY_PREFIX = 'mq_';
const SECRET_BYTES = 24;
/** Characters of the key kept for display (`mq_` plus 8). */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

/** A newly minted key. `key` is the secret: shown to its owner once, never stored. */
export interface MintedApiKey {
  key: string;
  prefix: string;
  hash: string;
}

/** SHA-256 of the whole key, hex: the only form in which keys are stored or compared. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Mints a key with 192 bits of randomness, base64url. */
export function mintApiKey(): MintedApiKey {
  const key = `${API_KEY_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return {
    key,
    prefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
    hash: hashApiKey(key),
  };
}

/** The bearer token of an Authorization header, or null. */
export function bearerToken(
  header: string | string[] | undefined,
): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}
