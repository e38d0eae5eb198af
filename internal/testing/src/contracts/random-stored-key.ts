import { randomBytes } from 'node:crypto';

/** A key as a store keeps it: a random SHA-256-sized hex hash and a unique display prefix. */
export function randomStoredKey(): { hash: string; prefix: string } {
  const hash = randomBytes(32).toString('hex');
  return { hash, prefix: `stello_${hash.slice(0, 5)}` };
}
