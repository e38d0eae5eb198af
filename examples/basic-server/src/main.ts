/**
 * `pnpm start`: runs the example Stello server until SIGINT/SIGTERM, then shuts down gracefully
 * (server first, so running turns can commit, then the embedded PostgreSQL).
 */
// First import: an old Node gets one line before anything else loads.
import './require-node';
import { fileURLToPath } from 'node:url';
import { EmbeddedPostgresUnavailable } from '@internal/embedded-postgres';
import { createJsonLogger } from '@stello-ai/server';
import { startExampleServer } from './start-example-server';

const logger = createJsonLogger();
const dataDir =
  process.env.STELLO_DATA_DIR?.trim() || fileURLToPath(new URL('../../../.stello-data', import.meta.url));

try {
  const server = await startExampleServer({
    env: process.env,
    dataDir,
    logger,
    print: (text) => console.log(text),
  });
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    logger.info('example.shutdown', { signal });
    server.close().then(
      () => logger.info('example.stopped', {}),
      (error: unknown) => {
        logger.error('example.shutdown_failed', { error });
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (error) {
  // A known reason (for example a private checkout as root) needs one line, not a stack trace.
  if (!(error instanceof EmbeddedPostgresUnavailable)) logger.error('example.start_failed', { error });
  console.error(
    `could not start the example server: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
}
