/**
 * Whether the web console is served at `/console` when `createStelloServer` is not told: on,
 * unless `STELLO_CONSOLE` is `off`, `false`, `0` or `no`.
 */
export function consoleEnabledByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return !['off', 'false', '0', 'no'].includes((env.STELLO_CONSOLE ?? '').trim().toLowerCase());
}
