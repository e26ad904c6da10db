/** Words for the "Answer with" choice: which adapter is loaded, and whom the empty chat says you talk to. */
import type { StatusData } from '../api/operations';
import { activeModelLabel } from '../shell/status';
import { BASE_MODEL } from './conversation';

/** The adapter the server answers with by default, or null when it serves the base model. */
export function activeAdapter(data: StatusData | undefined): string | null {
  return data?.adapters.active ?? data?.modelInfo.activeAdapter ?? null;
}

/** The model a conversation's choice (`adapter`, as in ChatState) talks to, for the empty chat's heading. */
export function introName(adapter: string | null, data: StatusData | undefined): string {
  if (adapter === BASE_MODEL) return data ? `the base model (${data.modelInfo.modelId})` : 'the base model';
  if (adapter) return `adapter ${adapter}`;
  return activeModelLabel(data);
}
