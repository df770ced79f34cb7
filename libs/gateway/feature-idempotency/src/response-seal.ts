import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
} from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The key that seals one credential's stored bodies, derived from the credential itself
 * (HKDF-SHA256). Redis holds only ciphertext: a stored response, a freshly minted API key in
 * it say, is readable only by a request carrying the same credential.
 */
export function sealingKey(credential: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', credential, 'marquee-idempotency', 'response-body', 32),
  );
}

/** AES-256-GCM: iv (12 bytes) + tag (16 bytes) + ciphertext. */
export function sealBody(key: Buffer, body: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(body), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]);
}

/** The body {@link sealBody} sealed; throws when the key is not the one that sealed it. */
export function openBody(key: Buffer, sealed: Buffer): Buffer {
  const decipher = createDecipheriv(
    'aes-256-gcm',
    key,
    sealed.subarray(0, IV_BYTES),
  );
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)),
    decipher.final(),
  ]);
}
