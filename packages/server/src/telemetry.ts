import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';

/** Name of the tracer every Stello span comes from. */
export const STELLO_TRACER_NAME = '@stello-ai/server';

/** OpenTelemetry tracing of {@link createStelloServer}. */
export interface StelloTelemetryOptions {
  /**
   * Where the spans go (default: the global provider an OpenTelemetry SDK registered). Without a
   * registered SDK the API is a no-op: spans are made and dropped.
   */
  tracerProvider?: TracerProvider;
}

/** Whether env `STELLO_OTEL` asks for tracing: `on`, `true`, `1` or `yes`. */
export function telemetryEnabledByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['on', 'true', '1', 'yes'].includes((env.STELLO_OTEL ?? '').trim().toLowerCase());
}

/**
 * The tracer of a server, or `undefined` when tracing is off: off unless `telemetry` is given
 * (`false` forces it off) or env `STELLO_OTEL` is `on`, `true`, `1` or `yes` (global provider).
 */
export function resolveTracer(
  telemetry: StelloTelemetryOptions | false | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Tracer | undefined {
  if (telemetry === false) return undefined;
  if (telemetry === undefined && !telemetryEnabledByEnv(env)) return undefined;
  const provider = telemetry?.tracerProvider ?? trace.getTracerProvider();
  return provider.getTracer(STELLO_TRACER_NAME);
}
