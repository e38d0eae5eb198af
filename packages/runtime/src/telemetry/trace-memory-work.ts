import { context, type Link, ROOT_CONTEXT, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import type { AroundMemoryWork } from '@stello-ai/core';
import { recordFailure } from './span-failure';

// One span per run of memory work, so its LLM call and its SQL statements nest under it. A run
// someone asked for (REST, WS, a tool) is a child of that request; a background run starts a trace
// of its own, linked to the turn that set it off, which ended long before the run does.

/**
 * An `aroundMemoryWork` opening a span `stello.memory.consolidate` or `stello.memory.integrate`
 * (`stello.space.id`, `stello.session.id` of a consolidation, `stello.memory.explicit`, the error
 * code of a failure) around each run, then calling `inner` (the agent's own wrapper) when given.
 */
export function traceMemoryWork(tracer: Tracer, spaceId: string, inner?: AroundMemoryWork): AroundMemoryWork {
  return (work, run) => {
    const active = context.active();
    const trigger = trace.getSpan(active);
    const parent = work.explicit ? active : ROOT_CONTEXT;
    const links: Link[] = !work.explicit && trigger ? [{ context: trigger.spanContext() }] : [];
    const span = tracer.startSpan(
      `stello.memory.${work.kind}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'stello.space.id': spaceId,
          'stello.memory.explicit': work.explicit,
          ...(work.sessionId !== undefined && { 'stello.session.id': work.sessionId }),
        },
        links,
      },
      parent,
    );
    return context.with(trace.setSpan(parent, span), async () => {
      try {
        return await (inner ? inner(work, run) : run());
      } catch (error) {
        recordFailure(span, error, 'INTERNAL');
        throw error;
      } finally {
        span.end();
      }
    });
  };
}
