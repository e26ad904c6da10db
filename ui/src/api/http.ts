/** Queries and mutations over HTTP POST: JSON, or a GraphQL multipart request when a file goes with it. */
import { authHeaders, keyRefused } from './auth';
import { endpoints } from './config';
import { ApiError, fromGraphQLErrors, UNREACHABLE_MESSAGE, type GraphQLErrorShape } from './errors';

interface Response<T> {
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

/** POST `body` to the gateway and return the operation's data; every failure is an ApiError in words. */
async function post<T>(body: BodyInit, headers: Record<string, string>, signal?: AbortSignal): Promise<T> {
  const url = endpoints().http;
  let response: globalThis.Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { Accept: 'application/json', ...headers, ...authHeaders() },
      body,
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(UNREACHABLE_MESSAGE, 'UNREACHABLE');
  }
  if (response.status === 401) {
    keyRefused();
    throw new ApiError('this Switchboard needs an API key', 'UNAUTHENTICATED');
  }
  let parsed: Response<T>;
  try {
    parsed = (await response.json()) as Response<T>;
  } catch {
    throw new ApiError(`the server answered ${response.status} ${response.statusText} without an answer the app can read`);
  }
  if (parsed.errors?.length) throw fromGraphQLErrors(parsed.errors);
  if (!response.ok || parsed.data == null) throw new ApiError(`the server answered ${response.status}`);
  return parsed.data;
}

export async function request<T>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  return post<T>(JSON.stringify({ query, variables }), { 'Content-Type': 'application/json' }, signal);
}

/**
 * Send an operation with files, as the GraphQL multipart request spec has it: the form's `operations` part is the
 * JSON request with each file's variable null, `map` says which variable each numbered part fills, then the files.
 * `files` maps a variable's name (`file`) to the file. The `GraphQL-Require-Preflight` header is what the gateway
 * asks of a multipart request (a form from another site cannot send it); the browser sets the content type and its
 * boundary.
 */
export async function upload<T>(
  query: string,
  variables: Record<string, unknown>,
  files: Record<string, Blob>,
  signal?: AbortSignal,
): Promise<T> {
  const names = Object.keys(files);
  const form = new FormData();
  const nulled = { ...variables, ...Object.fromEntries(names.map((name) => [name, null])) };
  form.append('operations', JSON.stringify({ query, variables: nulled }));
  form.append('map', JSON.stringify(Object.fromEntries(names.map((name, i) => [String(i), [`variables.${name}`]]))));
  names.forEach((name, i) => {
    const file = files[name];
    form.append(String(i), file, file instanceof File ? file.name : name);
  });
  return post<T>(form, { 'GraphQL-Require-Preflight': '1' }, signal);
}
