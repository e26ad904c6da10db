/** Queries and mutations over HTTP POST. */
import { authHeaders, keyRefused } from './auth';
import { endpoints } from './config';
import { ApiError, fromGraphQLErrors, type GraphQLErrorShape } from './errors';

interface Response<T> {
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

export async function request<T>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  const url = endpoints().http;
  let response: globalThis.Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(`cannot reach the gateway at ${url}; is it running?`, 'UNREACHABLE');
  }
  if (response.status === 401) {
    keyRefused();
    throw new ApiError('this Switchboard needs an API key', 'UNAUTHENTICATED');
  }
  let body: Response<T>;
  try {
    body = (await response.json()) as Response<T>;
  } catch {
    throw new ApiError(`the gateway answered ${response.status} ${response.statusText} without a GraphQL body`);
  }
  if (body.errors?.length) throw fromGraphQLErrors(body.errors);
  if (!response.ok || body.data == null) throw new ApiError(`the gateway answered ${response.status}`);
  return body.data;
}
