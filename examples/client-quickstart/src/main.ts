import { parseArgs } from 'node:util';
import { runQuickstart } from './quickstart';

// `pnpm --filter @stello-ai/example-client-quickstart start -- --url http://127.0.0.1:3000 --key stello_…`
// (or STELLO_URL and STELLO_API_KEY): runs the quick start against that server.
const { values } = parseArgs({
  options: { url: { type: 'string' }, key: { type: 'string' } },
  allowPositionals: true,
});
const baseUrl = values.url ?? process.env.STELLO_URL ?? 'http://127.0.0.1:3000';
const apiKey = values.key ?? process.env.STELLO_API_KEY;
if (!apiKey) {
  console.error('Give the API key that `pnpm start` printed: --key stello_… (or STELLO_API_KEY).');
  process.exit(2);
}
runQuickstart({ baseUrl, apiKey, print: (line) => console.log(line) }).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
