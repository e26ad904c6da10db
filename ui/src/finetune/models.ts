/** The saved adapters and the server's active model: the list read on its own, and the three changes an admin
 * makes from the Models table and the progress panel (load an adapter, back to the base model, delete one). */
import { request } from '../api/http';
import type {
  AdaptersQuery,
  DeleteMutation,
  DeleteMutationVariables,
  LoadMutation,
  LoadMutationVariables,
  UnloadMutation,
} from '../api/generated';
import { ADAPTERS, DELETE_ADAPTER, LOAD_ADAPTER, USE_BASE_MODEL, type AdaptersInfo } from '../api/operations';

/** Why the server refused, in its words (else `fallback`); undefined when it did what was asked. */
const refusal = (result: { ok: boolean; error: string | null }, fallback: string): string | undefined =>
  result.ok ? undefined : (result.error ?? fallback);

/** The saved adapters and the active one, read without the status query (which fails as a whole when no inference
 * worker runs). Throws an ApiError when the gateway cannot answer. */
export async function listAdapters(): Promise<AdaptersInfo> {
  const data = await request<AdaptersQuery>(ADAPTERS);
  return data.adapters;
}

/** Make the adapter `name` the active model for everyone: undefined when done, else why not. Throws an ApiError
 * when the gateway cannot answer. */
export async function loadAdapter(name: string): Promise<string | undefined> {
  const data = await request<LoadMutation>(LOAD_ADAPTER, { name } satisfies LoadMutationVariables);
  return refusal(data.loadAdapter, `could not load ${name}`);
}

/** Make the base model the active model for everyone: undefined when done, else why not. */
export async function useBaseModel(): Promise<string | undefined> {
  const data = await request<UnloadMutation>(USE_BASE_MODEL);
  return refusal(data.useBaseModel, 'could not switch to the base model');
}

/** Delete the saved adapter `name`: undefined when done, else why not. */
export async function deleteAdapter(name: string): Promise<string | undefined> {
  const data = await request<DeleteMutation>(DELETE_ADAPTER, { name } satisfies DeleteMutationVariables);
  return refusal(data.deleteAdapter, `could not delete ${name}`);
}
