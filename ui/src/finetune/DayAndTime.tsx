/** A timestamp as its day above its time of day (Models' Created, History's Finished), so the column stays narrow. */
import { Show, type JSX } from 'solid-js';
import { formatDayAndTime, formatTime } from './format';

/** `iso` in the reader's locale on two lines; `fallback` (else formatTime's text: '—', or the raw text) when it is
 * missing or does not parse. */
export function DayAndTime(props: { iso: string | null | undefined; fallback?: JSX.Element }) {
  return (
    <Show when={formatDayAndTime(props.iso)} fallback={props.fallback ?? formatTime(props.iso)}>
      {(when) => (
        <time class="ft-when" datetime={props.iso ?? undefined}>
          <span>{when().day}</span> <span>{when().time}</span>
        </time>
      )}
    </Show>
  );
}
