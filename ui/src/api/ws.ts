/** Subscriptions over graphql-ws (the graphql-transport-ws protocol), one shared lazy connection. */
import { createClient, type Client } from 'graphql-ws';
import { apiKey, keyRefused } from './auth';
import { endpoints } from './config';
import { report, setProbe } from './connection';
import { ApiError, describe, fromGraphQLErrors, type GraphQLErrorShape } from './errors';

let shared: Client | undefined;
/** whether the socket now open (or last closed) got through to connection_ack */
let opened = false;
/** what each subscription in flight does when its socket closes under it */
const inFlight = new Set<(event: unknown) => void>();

export function wsClient(): Client {
  shared ??= createClient({
    url: endpoints().ws,
    lazy: true,
    // no silent re-subscribe: for a generation that would start the answer again; views that want to
    // resume (fine-tune progress, an answer through inferResume) subscribe again themselves, after the back-off
    // in connection.ts
    retryAttempts: 0,
    // the key, in the graphql-ws convention (browsers cannot set headers on a websocket)
    connectionParams: () => {
      const key = apiKey();
      return key ? { Authorization: `Bearer ${key}` } : {};
    },
    on: {
      connecting: () => {
        opened = false;
      },
      connected: () => {
        opened = true;
        report({ type: 'connected' });
      },
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        if (code === 4403) keyRefused(); // no key, or a refused one
        // with nothing in flight the socket was on its way out anyway (the lazy close after the last operation)
        report({ type: 'closed', clean: code === 1000 || code === 4403 || inFlight.size === 0, opened });
        // graphql-ws would send the subscribe again on a new socket after a normal close (1000) even with
        // retryAttempts 0: end them here first, as errors, so nothing is ever re-subscribed behind our back
        for (const fail of [...inFlight]) fail(event);
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
  const dropped = (event: unknown) => {
    if (finished) return;
    finished = true;
    inFlight.delete(dropped);
    stop();
    handlers.error(new ApiError(describe(event), 'UNREACHABLE'));
  };
  inFlight.add(dropped);
  const end = () => {
    finished = true;
    inFlight.delete(dropped);
  };
  const stop = wsClient().subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (finished) return;
        if (result.errors?.length) {
          end();
          handlers.error(fromGraphQLErrors(result.errors as unknown as GraphQLErrorShape[]));
          return;
        }
        if (result.data) handlers.next(result.data as T);
      },
      error: (error) => {
        if (finished) return;
        end();
        if (Array.isArray(error)) handlers.error(fromGraphQLErrors(error as GraphQLErrorShape[]));
        else handlers.error(new ApiError(describe(error), 'UNREACHABLE'));
      },
      complete: () => {
        if (finished) return;
        end();
        handlers.complete();
      },
    },
  );
  return () => {
    end();
    stop();
  };
}

/** Whether the gateway answers a tiny query over the websocket now (the connection watcher's check). */
export function reachable(): Promise<boolean> {
  return new Promise((resolve) => {
    subscribe<{ __typename: string }>('query Ping { __typename }', {}, {
      next: () => undefined,
      error: (error) => resolve(error.code !== 'UNREACHABLE'), // an answer in words is still an answer
      complete: () => resolve(true),
    });
  });
}

setProbe(reachable);
