/** A job's Cancel button, named by the job, which asks first ("Cancel “name”? Yes, cancel / No, keep it"), as
 * Delete and Remove do. */
import { Show } from 'solid-js';
import { ADMIN_ONLY, canChangeServer } from '../shell/access';

// job ids are letters, digits, '.', '_' and '-': valid in ids as they are
export const cancelId = (jobId: string, what: 'cancel' | 'no') => `ft-${what}-cancel-${jobId}`;

export function CancelJob(props: {
  jobId: string;
  name: string;
  /** its question is open */
  asking: boolean;
  /** a cancel of this job is under way */
  busy: boolean;
  onAsk: () => void;
  onYes: () => void;
  onNo: () => void;
}) {
  return (
    <Show
      when={props.asking}
      fallback={
        <button
          type="button"
          class="danger"
          id={cancelId(props.jobId, 'cancel')}
          aria-label={`Cancel job ${props.name}`}
          title={canChangeServer() ? undefined : ADMIN_ONLY}
          disabled={props.busy || !canChangeServer()}
          onClick={() => props.onAsk()}
        >
          Cancel
        </button>
      }
    >
      <span
        class="row-actions ft-confirm"
        role="group"
        aria-label={`Cancel the job ${props.name}?`}
        data-testid="cancel-confirm"
        onKeyDown={(event) => {
          if (event.key === 'Escape') props.onNo();
        }}
      >
        <span>Cancel “{props.name}”?</span>
        <button type="button" class="danger" disabled={!canChangeServer()} onClick={() => props.onYes()}>
          Yes, cancel
        </button>
        <button type="button" id={cancelId(props.jobId, 'no')} onClick={() => props.onNo()}>
          No, keep it
        </button>
      </span>
    </Show>
  );
}
