/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/, the scheme Svix and the `standardwebhooks` package
 * implement), written against node:crypto so that the tests can check it with that package as an independent
 * implementation.
 *
 * signature = base64(HMAC-SHA256(key, `${webhook-id}.${webhook-timestamp}.${body}`)), sent as `v1,<signature>`;
 * one entry per secret, space-separated, so a receiver that knows either the old or the new secret verifies the
 * message during a rotation.
 *
 * Secrets: `whsec_<base64>` (the format the spec and its libraries generate) means the key is the base64-decoded
 * bytes after the prefix; any other string is used as is, its UTF-8 bytes being the key. A receiver using a Standard
 * Webhooks library with such a plain secret passes it `toWhsec(secret)`.
 */
import { createHmac } from 'node:crypto';

const PREFIX = 'whsec_';

/** The HMAC key of a secret, or why it cannot be one (never quoting the secret). */
export function signingKey(secret: string): Buffer | string {
  if (!secret.startsWith(PREFIX)) {
    return secret === '' ? 'the secret is empty' : Buffer.from(secret, 'utf8');
  }
  const b64 = secret.slice(PREFIX.length);
  // Buffer.from(.., 'base64') skips junk silently; a typo would sign with the wrong key and every receiver would 401.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.replace(/=+$/, '').length % 4 === 1) return 'whsec_ secret is not valid base64';
  const key = Buffer.from(b64, 'base64');
  return key.length === 0 ? 'the secret is empty' : key;
}

/** The `webhook-signature` header value: `v1,<base64>` per key, space-separated. */
export function webhookSignature(id: string, timestampSeconds: number, body: string, keys: ReadonlyArray<Buffer>): string {
  const content = `${id}.${timestampSeconds}.${body}`;
  return keys.map((key) => `v1,${createHmac('sha256', key).update(content, 'utf8').digest('base64')}`).join(' ');
}

/** A secret in the `whsec_<base64>` form Standard Webhooks libraries expect (unchanged when it already is). */
export function toWhsec(secret: string): string {
  return secret.startsWith(PREFIX) ? secret : PREFIX + Buffer.from(secret, 'utf8').toString('base64');
}
