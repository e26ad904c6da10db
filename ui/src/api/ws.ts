/** Subscriptions over graphql-ws (the graphql-transport-ws protocol), one shared lazy connection. */
import { createClient, type Client } from 'graphql-ws';
import { apiKey, keyRefused } from './auth';
import { endpoints } from './config';
import { ApiError, describe, fromGraphQLErrors, type GraphQLErrorShape } from './errors';

let shared: Client | undefined;

export function wsClient(): Client {
  shared ??= createClient({
    url: endpoints().ws,
    lazy: true,
    // no silent re-subscribe: for a generation that would start the answer again; views that want to
    // resume (fine-tune progress) subscribe again themselves
    retryAttempts: 0,
    // the key, in the graphql-ws convention (browsers cannot set headers on a websocket)
    connectionParams: () => {
      const key = apiKey();
      return key ? { Authorization: `Bearer ${key}` } : {};
    },
    on: {
      closed: (event) => {
        if ((event as CloseEvent | undefined)?.code === 4403) keyRefused(); // no key, or a refused one
      },
    },
  });
  return shared;
}

/** Drop the connection (a new key is sent by the next one). */
export function resetWsClient(): void {
  void shared?.dispose();
  shared = undefined;
}

export interface Handlers<T> {
  next: (data: T) => void;
  error: (error: ApiError) => void;
  complete: () => void;
}

/** Start a subscription; the returned function stops it (the server cancels the work behind it). */
export function subscribe<T>(query: string, variables: Record<string, unknown>, handlers: Handlers<T>): () => void {
  let finished = false;
  const stop = wsClient().subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (finished) return;
        if (result.errors?.length) {
          finished = true;
          handlers.error(fromGraphQLErrors(result.errors as unknown as GraphQLErrorShape[]));
          return;
        }
        if (result.data) handlers.next(result.data as T);
      },
      error: (error) => {
        if (finished) return;
        finished = true;
        if (Array.isArray(error)) handlers.error(fromGraphQLErrors(error as GraphQLErrorShape[]));
        else handlers.error(new ApiError(describe(error), 'UNREACHABLE'));
      },
      complete: () => {
        if (finished) return;
        finished = true;
        handlers.complete();
      },
    },
  );
  return () => {
    finished = true;
    stop();
  };
}
