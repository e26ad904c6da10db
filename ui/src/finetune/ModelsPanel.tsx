/** The "Models" table: the base model and every saved adapter; Make active on each row that is not the server's
 * active model (for every user: the conversations on "Server's active model" answer with it), Delete (confirmed
 * inline). */
import { createEffect, createSignal, For, on, Show } from 'solid-js';
import { ADMIN_ONLY, canChangeServer } from '../shell/access';
import { describe } from '../api/errors';
import type { AdapterInfo, AdaptersInfo } from '../api/operations';
import { status, statusError } from '../shell/status';
import { createConfirmation, focusSoon } from './confirm';
import { DayAndTime } from './DayAndTime';
import { formatBytes, formatLoss } from './format';
import { deleteAdapter, listAdapters, loadAdapter, useBaseModel } from './models';
import { refreshStatus } from '../shell/status';

type Action = { kind: 'load' | 'unload' | 'delete'; name: string };

const working: Record<Action['kind'], (name: string) => string> = {
  load: (name) => `Making ${name} the active model for everyone…`,
  unload: () => 'Making the base model the active model for everyone…',
  delete: (name) => `Deleting ${name}…`,
};

/** Each action's change on the server: undefined when done, else why not. */
const perform: Record<Action['kind'], (name: string) => Promise<string | undefined>> = {
  load: loadAdapter,
  unload: () => useBaseModel(),
  delete: deleteAdapter,
};

export function ModelsPanel(props: { onCompare?: (adapterName: string) => void } = {}) {
  // without an inference worker the status query fails as a whole: list the registry on its own then
  const [fallback, setFallback] = createSignal<AdaptersInfo>();
  const fetchFallback = () =>
    listAdapters()
      .then(setFallback)
      .catch(() => setFallback(undefined));
  createEffect(
    on(statusError, (error) => {
      if (error && !status()) void fetchFallback();
    }),
  );

  const adapters = (): AdaptersInfo | undefined => status()?.adapters ?? fallback();
  const active = () => adapters()?.active ?? null;
  const [busy, setBusy] = createSignal<Action>();
  const [error, setError] = createSignal<string>();
  const confirmation = createConfirmation({ no: (name) => confirmId(name, 'no'), asker: (name) => confirmId(name, 'delete') });
  let heading: HTMLHeadingElement | undefined;

  async function run(action: Action): Promise<void> {
    setBusy(action);
    setError(undefined);
    confirmation.close();
    try {
      const problem = await perform[action.kind](action.name);
      if (problem) setError(problem);
    } catch (err) {
      setError(describe(err));
    } finally {
      await refreshStatus();
      if (!status()) await fetchFallback();
      setBusy(undefined);
      // the pressed button is gone (its row is now the active one, or deleted) unless the server refused
      const pressedId = { load: confirmId(action.name, 'toggle'), unload: USE_BASE_ID, delete: confirmId(action.name, 'delete') };
      const pressed = document.getElementById(pressedId[action.kind]);
      if (pressed) focusSoon(pressed.id);
      else heading?.focus();
    }
  }

  return (
    <section class="card" aria-labelledby="ft-models-title">
      <h2 id="ft-models-title" tabindex="-1" ref={heading}>
        Models
      </h2>
      <p class="muted ft-models-note" data-testid="models-note">
        The active model answers every conversation set to “Server's active model”, for everyone using this server.
        Make active changes it for all of them; a conversation that picked its own model under Answer with keeps it.
      </p>
      <Show when={error()}>
        <p class="alert" role="alert" data-testid="models-error">
          {error()}
        </p>
      </Show>
      <Show when={!adapters() && statusError()}>
        <p class="alert" role="alert">
          Cannot list the models: {statusError()}
        </p>
      </Show>
      <Show when={adapters()} fallback={<Show when={!statusError()}><p class="loading">Loading models…</p></Show>}>
        <div class="table-wrap">
          <table class="ft-models stack-on-phone">
            <caption class="visually-hidden">The base model and saved adapters; the active one is marked</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Dataset</th>
                <th scope="col">Steps</th>
                <th scope="col">Final loss</th>
                <th scope="col">Size</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              <tr data-testid="model-row" data-name="base" class={active() === null ? 'active-row' : undefined}>
                <th scope="row">
                  <span id="ft-base-model">{status()?.modelInfo.modelId ?? 'Base model'}</span>{' '}
                  <span class="badge">base</span>{' '}
                  <Show when={active() === null}>
                    <span class="badge badge-adapter">active</span>
                  </Show>
                </th>
                <td class="muted ft-blank">—</td>
                <td class="muted ft-blank">—</td>
                <td class="muted ft-blank">—</td>
                <td class="muted ft-blank">—</td>
                <td class="muted ft-blank">—</td>
                <td class="ft-actions-cell">
                  <div class="row-actions">
                    <Show when={active() !== null}>
                      <button
                        type="button"
                        id={USE_BASE_ID}
                        disabled={Boolean(busy()) || !canChangeServer()}
                        title={canChangeServer() ? MAKE_ACTIVE_TITLE : ADMIN_ONLY}
                        aria-describedby="ft-base-model"
                        onClick={() => void run({ kind: 'unload', name: 'base' })}
                      >
                        Make active
                      </button>
                    </Show>
                  </div>
                </td>
              </tr>
              <For each={adapters()?.adapters}>
                {(adapter) => (
                  <AdapterRow
                    adapter={adapter}
                    active={active() === adapter.name}
                    busy={Boolean(busy())}
                    confirming={confirmation.asking() === adapter.name}
                    onLoad={() => void run({ kind: 'load', name: adapter.name })}
                    onAskDelete={() => confirmation.ask(adapter.name)}
                    onDelete={() => void run({ kind: 'delete', name: adapter.name })}
                    onKeep={() => confirmation.keep(adapter.name)}
                    onCompare={props.onCompare ? () => props.onCompare?.(adapter.name) : undefined}
                  />
                )}
              </For>
            </tbody>
          </table>
        </div>
        <Show when={adapters()?.adapters.length === 0}>
          <p class="muted" data-testid="no-adapters">
            No adapters yet — train one below.
          </p>
        </Show>
      </Show>
      <p role="status" class="muted ft-status">
        {busy() ? working[busy()!.kind](busy()!.name) : ''}
      </p>
    </section>
  );
}

const USE_BASE_ID = 'ft-use-base'; // not an adapter's id: those all start with ft-toggle-
const MAKE_ACTIVE_TITLE = "Answer every conversation on “Server's active model” with this one, for every user";

// adapter names are letters, digits, '.', '_' and '-': valid in ids as they are
const confirmId = (name: string, what: 'delete' | 'no' | 'toggle') => `ft-${what}-${name}`;

/** Both sets of a row's actions, invisible, in the cell beside the real ones: the column is as wide as the wider
 * set from the start, so the table does not shift when "Delete? Yes, delete / No" takes the place of Load and
 * Delete. */
function ActionsWidth() {
  return (
    <div class="ft-swap-ghost" aria-hidden="true">
      <div class="row-actions">
        <span class="button">Compare</span>
        <span class="button">Make active</span>
        <span class="button">Delete</span>
      </div>
      <div class="row-actions ft-confirm">
        <span>Delete?</span>
        <span class="button">Yes, delete</span>
        <span class="button">No</span>
      </div>
    </div>
  );
}

function AdapterRow(props: {
  adapter: AdapterInfo;
  active: boolean;
  busy: boolean;
  confirming: boolean;
  onLoad: () => void;
  onAskDelete: () => void;
  onDelete: () => void;
  onKeep: () => void;
  /** open the comparison of this adapter with the base model */
  onCompare?: () => void;
}) {
  const nameId = () => `ft-model-${props.adapter.name}`;
  return (
    <tr data-testid="model-row" data-name={props.adapter.name} class={props.active ? 'active-row' : undefined}>
      <th scope="row">
        <span id={nameId()}>{props.adapter.name}</span>{' '}
        <Show when={props.active}>
          <span class="badge badge-adapter">active</span>
        </Show>
      </th>
      <td class="ft-ellipsis" data-label="Dataset" title={props.adapter.dataset}>
        {props.adapter.dataset}
      </td>
      <td data-label="Steps">{props.adapter.steps}</td>
      <td data-label="Final loss">{formatLoss(props.adapter.finalLoss)}</td>
      <td data-label="Size">{formatBytes(props.adapter.sizeBytes)}</td>
      <td data-label="Created">
        <DayAndTime iso={props.adapter.created} />
      </td>
      <td class="ft-actions-cell">
        <div class="ft-swap">
          <ActionsWidth />
          <Show
            when={props.confirming}
            fallback={
              <div class="row-actions">
                <Show when={props.onCompare}>
                  <button
                    type="button"
                    aria-describedby={nameId()}
                    title="Ask it questions beside the base model"
                    onClick={() => props.onCompare?.()}
                  >
                    Compare
                  </button>
                </Show>
                {/* the active row has no switch: Make active on another row (the base model's too) replaces it */}
                <Show when={!props.active}>
                  <button
                    type="button"
                    id={confirmId(props.adapter.name, 'toggle')}
                    disabled={props.busy || !canChangeServer()}
                    title={canChangeServer() ? MAKE_ACTIVE_TITLE : ADMIN_ONLY}
                    aria-describedby={nameId()}
                    onClick={() => props.onLoad()}
                  >
                    Make active
                  </button>
                </Show>
                <button
                  type="button"
                  class="danger"
                  id={confirmId(props.adapter.name, 'delete')}
                  disabled={props.busy || !canChangeServer()}
                  title={canChangeServer() ? undefined : ADMIN_ONLY}
                  aria-describedby={nameId()}
                  onClick={props.onAskDelete}
                >
                  Delete
                </button>
              </div>
            }
          >
            <div
              class="row-actions ft-confirm"
              role="group"
              aria-label={`Delete ${props.adapter.name}?`}
              onKeyDown={(event) => {
                if (event.key === 'Escape') props.onKeep();
              }}
            >
              <span>Delete?</span>
              <button type="button" class="danger" disabled={props.busy || !canChangeServer()}
                  title={canChangeServer() ? undefined : ADMIN_ONLY} onClick={props.onDelete}>
                Yes, delete
              </button>
              <button type="button" id={confirmId(props.adapter.name, 'no')} disabled={props.busy || !canChangeServer()}
                  title={canChangeServer() ? undefined : ADMIN_ONLY} onClick={props.onKeep}>
                No
              </button>
            </div>
          </Show>
        </div>
      </td>
    </tr>
  );
}
