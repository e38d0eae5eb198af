import type { RecordView } from '@stello-ai/client';
import { ForkForm, type ForkFormProps } from './ForkForm';
import { ToolCallView } from './ToolCallView';

const ROLE_NAMES: Record<RecordView['role'], string> = {
  system: 'System',
  user: 'You',
  assistant: 'Assistant',
  tool: 'Tool result',
};

/** Properties of {@link MessageItem}. */
export interface MessageItemProps {
  record: RecordView;
  canFork: boolean;
  forking: boolean;
  onForkToggle: () => void;
  forkProps: Omit<ForkFormProps, 'fromRecordId'>;
}

/** One stored record: its text, its tool calls inline, and "Fork from here". */
export function MessageItem({ record, canFork, forking, onForkToggle, forkProps }: MessageItemProps) {
  return (
    <li class={`message ${record.role}`} data-record-id={record.id}>
      <div class="message-head">
        <span class="role">{ROLE_NAMES[record.role]}</span>
        {canFork && (
          <button
            type="button"
            class="link small"
            aria-expanded={forking}
            aria-label={`Fork from this ${record.role === 'user' ? 'message' : 'reply'}`}
            onClick={onForkToggle}
          >
            Fork from here
          </button>
        )}
      </div>
      {record.toolCalls?.map((call) => (
        <ToolCallView key={call.id} name={call.name} input={call.input} />
      ))}
      {record.content && <p class="content">{record.content}</p>}
      {forking && <ForkForm {...forkProps} fromRecordId={record.id} />}
    </li>
  );
}
