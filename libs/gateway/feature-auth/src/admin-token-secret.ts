import { randomBytes } from 'node:crypto';
import { hashApiKey } from './api-key-secret';

/** Admin tokens start with this; tenant keys with `mq_`, so neither is mistaken for the other. */
export const ADMIN_TOKEN_PREFIX = 'mqa_';
const SECRET_BYTES = 24;
const DISPLAY_PREFIX_LENGTH = ADMIN_TOKEN_PREFIX.length + 8;

/** Mints an admin token: the secret is shown once; only its SHA-256 is stored. */
export function mintAdminToken(): {
  token: string;
  prefix: string;
  hash: string;
} {
  const token = `${ADMIN_TOKEN_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return {
    token,
    prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
    hash: hashApiKey(token),
  };
}
