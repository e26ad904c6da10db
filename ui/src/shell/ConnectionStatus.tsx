/** The link to the gateway in words ("Offline", "Reconnecting…", "Can't reach the server"); empty while it works. */
import { connectionState, stateLabel } from '../api/connection';

export function ConnectionStatus() {
  // always in the page, so that screen readers announce the change of its words
  return (
    <span
      class="connection-status"
      classList={{ [`connection-${connectionState()}`]: true }}
      role="status"
      aria-live="polite"
      data-testid="connection-status"
      data-state={connectionState()}
    >
      {stateLabel(connectionState())}
    </span>
  );
}
