import { showValue } from '../state/reply-draft';

/** Properties of {@link ToolCallView}. */
export interface ToolCallViewProps {
  name: string;
  input: unknown;
  /** Absent while the tool runs (a streamed call), or when the result is its own record. */
  result?: { ok: boolean; output?: unknown; error?: string } | undefined;
}

/** A tool call shown inline in the conversation: its name, input, and result once known. */
export function ToolCallView({ name, input, result }: ToolCallViewProps) {
  return (
    <div class="tool-call" data-testid="tool-call">
      <span class="tool-name">Tool call: {name}</span>
      <code class="tool-io">{showValue(input)}</code>
      {result && (
        <span class={result.ok ? 'tool-result' : 'tool-result failed'}>
          {result.ok ? `→ ${showValue(result.output)}` : `failed: ${result.error ?? 'error'}`}
        </span>
      )}
    </div>
  );
}
