/** Words for the "Answer with" choice: which adapter is loaded, what answers a conversation, and whom the empty
 * chat says you talk to. A conversation's choice is null (the server's active model, whatever it is when the question
 * goes), BASE_MODEL (the base model, always) or an adapter's name. */
import type { StatusData } from '../api/operations';
import { activeModelLabel } from '../shell/status';
import { BASE_MODEL } from './turns';

/** The adapter the server answers with by default, or null when it serves the base model. */
export function activeAdapter(data: StatusData | undefined): string | null {
  return data?.adapters.active ?? data?.modelInfo.activeAdapter ?? null;
}

/** The picker's entry for "the server's active model" (null): it follows Load on the Fine-tune page. */
export function activeChoiceLabel(data: StatusData | undefined): string {
  return `Server's active model (${activeModelLabel(data)})`;
}

/** The picker's entry for the base model (BASE_MODEL): the base model even once an adapter is loaded. */
export function baseChoiceLabel(data: StatusData | undefined): string {
  return data ? `Base model (${data.modelInfo.modelId})` : 'Base model';
}

/** What answers a conversation whose choice is `adapter`: the model's name, and whether it is an adapter. */
export function answeringModel(adapter: string | null, data: StatusData | undefined): { name: string; isAdapter: boolean } {
  if (adapter === BASE_MODEL) return { name: data ? data.modelInfo.modelId : 'base model', isAdapter: false };
  if (adapter) {
    const gone = data && !data.adapters.available.includes(adapter);
    return { name: gone ? `${adapter} (deleted)` : adapter, isAdapter: true };
  }
  return { name: activeModelLabel(data), isAdapter: Boolean(activeAdapter(data)) };
}

/** The model a conversation's choice (`adapter`, as in ChatState) talks to, for the empty chat's heading. */
export function introName(adapter: string | null, data: StatusData | undefined): string {
  if (adapter === BASE_MODEL) return data ? `the base model (${data.modelInfo.modelId})` : 'the base model';
  if (adapter) return `adapter ${adapter}`;
  return activeModelLabel(data);
}
