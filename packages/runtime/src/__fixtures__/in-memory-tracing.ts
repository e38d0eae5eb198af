import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll } from 'vitest';

/**
 * A tracer whose finished spans land in `exporter` (emptied after each test), with the async
 * context an SDK installs, so spans started across awaits find their parent. Call it inside a
 * `describe`: it registers the hooks that install and remove that context.
 */
export function useInMemoryTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterEach(() => exporter.reset());
  afterAll(() => {
    context.disable();
  });
  return { exporter, tracer: provider.getTracer('test') };
}
