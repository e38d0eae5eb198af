/** `pnpm --filter @stello-ai/example-in-memory-agent start`: runs the in-memory demo and prints it. */
import { runDemo } from './run-demo';

await runDemo((line) => console.log(line));
