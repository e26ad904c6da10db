/** A message that shows collapsed behind "Show more" when it is long (see collapse.ts). */
import { createSignal, Show, type JSX } from 'solid-js';
import { isLong } from './collapse';

export function Collapsible(props: { text: string; enabled?: boolean; children: JSX.Element }) {
  const [open, setOpen] = createSignal(false);
  const long = () => props.enabled !== false && isLong(props.text);
  return (
    <>
      <div classList={{ collapsible: long(), collapsed: long() && !open() }} data-testid="collapsible">
        {props.children}
      </div>
      <Show when={long()}>
        <button type="button" class="link show-more" aria-expanded={open()} onClick={() => setOpen(!open())}>
          {open() ? 'Show less' : 'Show more'}
        </button>
      </Show>
    </>
  );
}
