import type { ReplyDraft } from '../state/reply-draft';
import { ToolCallView } from './ToolCallView';

/**
 * The turn in flight: the message sent and the reply as it streams. The reply is a polite live
 * region, busy while it streams, so a screen reader reads it once it is whole.
 */
export function ReplyDraftView({ draft }: { draft: ReplyDraft | null }) {
  return (
    <div class="draft" data-testid="reply-draft">
      {draft && (
        <div class="message user">
          <span class="role">You</span>
          <p class="content">{draft.input}</p>
        </div>
      )}
      <section
        class={draft ? 'message assistant streaming' : 'sr-only'}
        aria-live="polite"
        aria-busy={draft !== null && !draft.done}
        aria-label="Reply"
        data-testid="streaming-reply"
      >
        {draft && (
          <>
            <span class="role">Assistant{draft.done ? '' : ' (replying…)'}</span>
            {draft.toolCalls.map((call) => (
              <ToolCallView key={call.callId} name={call.name} input={call.input} result={call.result} />
            ))}
            <p class="content">{draft.text}</p>
            {draft.cancelled && <p class="meta">Cancelled: nothing of this turn was stored.</p>}
          </>
        )}
      </section>
    </div>
  );
}
