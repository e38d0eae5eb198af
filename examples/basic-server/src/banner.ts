import type { DemoAccess } from './demo-access';

/** What the start-up banner describes. */
export interface BannerInfo {
  /** Base URL clients use, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** URL of the web console, or `null` when it is off (`STELLO_CONSOLE=off`). */
  consoleUrl: string | null;
  /** One line about the database (never a password). */
  database: string;
  /** One line about the chat model (not shown for the offline model, which the banner describes itself). */
  model: string;
  offline: boolean;
  access: DemoAccess;
  /** Prefix that makes `pnpm stello` reach the same database, e.g. `DATABASE_URL=… `. */
  cliEnv: string;
}

// Replaces the model's own description, which would say the same less plainly.
const OFFLINE_MODEL_LINE =
  'OFFLINE model (no LLM key is set: deterministic local replies, no network; set ANTHROPIC_API_KEY, OPENAI_API_KEY or OPENAI_BASE_URL for a real one)';

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Renders the human start-up banner: where the server is, what it runs on, and a curl line that works. */
export function renderBanner(info: BannerInfo): string {
  const { access } = info;
  const keyHeader =
    access.kind === 'env'
      ? '"X-API-Key: $STELLO_API_KEY"'
      : access.kind === 'new-demo'
        ? shellQuote(`X-API-Key: ${access.apiKey}`)
        : access.kind === 'stored-demo'
          ? `"X-API-Key: $(cat ${access.keyFile})"`
          : '"X-API-Key: $STELLO_API_KEY"';
  const createUser = `${info.cliEnv}pnpm stello users create --name alice`;
  const lines = [
    '',
    'Stello Server is running',
    `  URL:       ${info.url}`,
    ...(info.consoleUrl === null ? [] : [`  Console:   ${info.consoleUrl} (log in there with an API key)`]),
    `  Database:  ${info.database}`,
    `  Model:     ${info.offline ? OFFLINE_MODEL_LINE : info.model}`,
    '',
  ];
  switch (access.kind) {
    case 'env':
      lines.push(
        `  API key:   $STELLO_API_KEY (${access.created ? 'a user was created for it' : 'known user'})`,
      );
      break;
    case 'new-demo':
      lines.push('  A demo user was created. Its API key, shown this once:');
      lines.push(`    ${access.apiKey}`);
      lines.push(
        access.keyFile === null
          ? '  Only its hash is stored: copy it now.'
          : `  (kept for later starts in ${access.keyFile}, mode 0600; the database stores only its hash)`,
      );
      break;
    case 'stored-demo':
      lines.push(`  API key:   the demo key in ${access.keyFile}`);
      break;
    case 'none':
      if (access.staleKeyFile !== null)
        lines.push(`  The demo key in ${access.staleKeyFile} no longer works.`);
      lines.push('  Create a user and key (printed once), then export it as STELLO_API_KEY:');
      lines.push(`    ${createUser}`);
      break;
  }
  lines.push(
    '',
    '  Try it:',
    `    curl -s -X POST ${info.url}/spaces -H ${keyHeader} -H 'Content-Type: application/json' -d '{"label":"My first space"}'`,
    `    curl -s ${info.url}/spaces -H ${keyHeader}`,
    `  More users:  ${createUser}`,
    `  Health:      curl -s ${info.url}/healthz`,
    '  Stop:        Ctrl-C (or SIGTERM for a full drain of running turns)',
    '',
  );
  return lines.join('\n');
}
