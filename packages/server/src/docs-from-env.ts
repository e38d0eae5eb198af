/**
 * Whether `GET /openapi.json`, `GET /asyncapi.json` and `GET /docs` are served when `createStelloServer` is not told:
 * on, unless `STELLO_DOCS` is `off`, `false`, `0` or `no`.
 */
export function docsEnabledByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return !['off', 'false', '0', 'no'].includes((env.STELLO_DOCS ?? '').trim().toLowerCase());
}
