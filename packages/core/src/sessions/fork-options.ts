import type { ForkOptions } from '@stello-ai/session';
import type { EngineForkOptions, ForkProfile } from '../agent-types';
import { CoreError } from '../errors';

/**
 * The session-level options of a fork: the named profile's defaults under the explicit options
 * (tags are merged).
 *
 * @throws CoreError `PROFILE_NOT_FOUND` for a profile that is not configured.
 */
export function toForkOptions(
  options: EngineForkOptions,
  profiles: Readonly<Record<string, ForkProfile>> | undefined,
): ForkOptions {
  let profile: ForkProfile | undefined;
  if (options.profile !== undefined) {
    profile = profiles?.[options.profile];
    if (!profile) {
      throw new CoreError('PROFILE_NOT_FOUND', `fork profile "${options.profile}" is not defined`, {
        details: { profile: options.profile },
      });
    }
  }
  const forkOptions: ForkOptions = {
    label: options.label,
    context: options.context ?? profile?.context ?? 'none',
  };
  const systemPrompt = options.systemPrompt ?? profile?.systemPrompt;
  if (systemPrompt !== undefined) forkOptions.systemPrompt = systemPrompt;
  const prompt = options.prompt ?? profile?.prompt;
  if (prompt !== undefined) forkOptions.prompt = prompt;
  if (options.scope !== undefined) forkOptions.scope = options.scope;
  const tags = [...new Set([...(profile?.tags ?? []), ...(options.tags ?? [])])];
  if (tags.length > 0) forkOptions.tags = tags;
  if (options.metadata !== undefined) forkOptions.metadata = options.metadata;
  return forkOptions;
}
