import type { UserStore } from '@stello-ai/runtime';

/** What {@link seedApiKey} did. */
export interface SeedApiKeyResult {
  userId: string;
  /** `true` when a user was created for the key, `false` when the key already authenticated. */
  created: boolean;
}

/**
 * Makes sure `apiKey` authenticates: when no user holds it yet, creates a user named `name`
 * (default `default`) with exactly that key. Idempotent and safe when several instances start at
 * once. Used for `STELLO_API_KEY` by `stello serve` and the example server.
 *
 * @throws the `UserStore` errors, e.g. when the key was revoked (a revoked key is never revived)
 * @example
 * if (process.env.STELLO_API_KEY) await seedApiKey(server.userStore, process.env.STELLO_API_KEY);
 */
export async function seedApiKey(
  userStore: UserStore,
  apiKey: string,
  options: { name?: string } = {},
): Promise<SeedApiKeyResult> {
  const existing = await userStore.authenticate(apiKey);
  if (existing !== null) return { userId: existing.userId, created: false };
  try {
    const { user } = await userStore.createUser(options.name ?? 'default', { apiKey });
    return { userId: user.id, created: true };
  } catch (error) {
    // Another instance may have created the same user between our check and our insert.
    const raced = await userStore.authenticate(apiKey);
    if (raced !== null) return { userId: raced.userId, created: false };
    throw error;
  }
}
