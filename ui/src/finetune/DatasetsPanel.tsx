/** "Datasets": upload a .jsonl/.json training set (dropped or picked) under a name, list the uploaded ones with their
 * format and size, show one's first rows as turns, delete one (asked first). */
import { createSignal, For, Show } from 'solid-js';
import { ADMIN_ONLY, canChangeServer } from '../shell/access';
import { describe } from '../api/errors';
import type { Dataset, DatasetPreview } from '../api/operations';
import { createConfirmation } from './confirm';
import { datasetNameFromFile, datasetNameProblem, isDatasetFile, PREVIEW_ROWS, type DatasetsStore } from './datasets';
import { DayAndTime } from './DayAndTime';
import { Field } from './Field';
import { formatBytes } from './format';
import { MAX_NAME_LENGTH } from './validate';

// dataset names are letters, digits, '.', '_' and '-': valid in ids as they are
const rowId = (name: string, what: 'delete' | 'no' | 'show') => `ds-${what}-${name}`;

const count = (n: number) => n.toLocaleString('en-US');

/** More characters than this, or more lines than PREVIEW_LINES, and a turn shows collapsed behind "Show more". */
export const PREVIEW_CHARS = 240;
export const PREVIEW_LINES = 4;

export function DatasetsPanel(props: { store: Pick<DatasetsStore, 'datasets' | 'listError' | 'upload' | 'remove' | 'preview'> }) {
  const [file, setFile] = createSignal<File>();
  const [name, setName] = createSignal('');
  const [nameError, setNameError] = createSignal<string>();
  const [fileError, setFileError] = createSignal<string>();
  const [error, setError] = createSignal<string>();
  const [notice, setNotice] = createSignal<string>();
  const [uploading, setUploading] = createSignal(false);
  const [dragging, setDragging] = createSignal(false);
  const [deleting, setDeleting] = createSignal<string>();
  const [shown, setShown] = createSignal<{ name: string; data?: DatasetPreview; error?: string }>();
  const confirmation = createConfirmation({ no: (n) => rowId(n, 'no'), asker: (n) => rowId(n, 'delete') });
  let picker: HTMLInputElement | undefined;
  let heading: HTMLHeadingElement | undefined;

  const choose = (chosen: File | undefined) => {
    setError(undefined);
    setNotice(undefined);
    setNameError(undefined);
    if (!chosen) return;
    if (!isDatasetFile(chosen.name)) {
      setFile(undefined);
      setFileError(`“${chosen.name}” is not a .jsonl or .json file.`);
      return;
    }
    setFileError(undefined);
    setFile(chosen);
    setName(datasetNameFromFile(chosen.name));
  };

  async function submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    if (uploading()) return;
    setError(undefined);
    setNotice(undefined);
    const chosen = file();
    if (!chosen) {
      setFileError('Choose a .jsonl or .json file first (or drop one here).');
      picker?.focus();
      return;
    }
    const problem = datasetNameProblem(name());
    setNameError(problem);
    if (problem) {
      document.getElementById('ds-name')?.focus();
      return;
    }
    setUploading(true);
    const result = await props.store.upload(name(), chosen);
    setUploading(false);
    if (result.ok) {
      const d = result.dataset;
      setNotice(d ? `Uploaded “${d.name}”: ${count(d.rows)} rows, ${d.format} format.` : `Uploaded “${name()}”.`);
      setFile(undefined);
      setName('');
      if (picker) picker.value = '';
      return;
    }
    if (result.field === 'name') {
      setNameError(result.message);
      document.getElementById('ds-name')?.focus();
    } else {
      setError(result.message);
    }
  }

  async function show(target: string): Promise<void> {
    if (shown()?.name === target) {
      setShown(undefined);
      return;
    }
    setShown({ name: target });
    try {
      const data = await props.store.preview(target);
      if (shown()?.name !== target) return;
      setShown(data ? { name: target, data } : { name: target, error: 'There is no dataset by this name any more.' });
    } catch (err) {
      if (shown()?.name === target) setShown({ name: target, error: describe(err) });
    }
  }

  async function remove(target: string): Promise<void> {
    confirmation.close();
    setDeleting(target);
    setError(undefined);
    setNotice(undefined);
    const result = await props.store.remove(target);
    setDeleting(undefined);
    if (!result.ok) {
      setError(result.message);
      return;
    }
    if (shown()?.name === target) setShown(undefined);
    setNotice(`Deleted “${target}”.`);
    heading?.focus(); // its row and button are gone
  }

  const fileHintId = 'ds-file-hint';
  return (
    <section class="card" aria-labelledby="ft-datasets-title" data-testid="datasets">
      <h2 id="ft-datasets-title" tabindex="-1" ref={heading}>
        Datasets
      </h2>
      <form class="ft-upload" novalidate onSubmit={(event) => void submit(event)} aria-busy={uploading()}>
        <div
          class="ft-drop"
          classList={{ 'ft-drop-over': dragging() }}
          data-testid="dataset-drop"
          onDragOver={(event) => {
            event.preventDefault();
            if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(event) => {
            event.preventDefault();
            setDragging(false);
            choose(event.dataTransfer?.files?.[0]);
          }}
        >
          <label for="ds-file">Training file</label>
          <input
            id="ds-file"
            ref={picker}
            type="file"
            accept=".jsonl,.json,application/json"
            aria-describedby={[fileHintId, fileError() ? 'ds-file-error' : ''].filter(Boolean).join(' ')}
            aria-invalid={fileError() ? 'true' : 'false'}
            onChange={(event) => choose(event.currentTarget.files?.[0])}
          />
          <span id={fileHintId} class="muted ft-hint">
            Drop a .jsonl or .json file here, or choose one. One example a line: chat (<code>messages</code>), ShareGPT
            (<code>conversations</code>), prompt/completion or Alpaca (instruction/input/output).
          </span>
          <Show when={file()}>
            {(chosen) => (
              <span class="ft-file" data-testid="dataset-file">
                {chosen().name} · {formatBytes(chosen().size)}
              </span>
            )}
          </Show>
          <Show when={fileError()}>
            <span id="ds-file-error" class="field-error" data-testid="error-ds-file">
              {fileError()}
            </span>
          </Show>
        </div>
        <div class="ft-upload-row">
          <Field
            id="ds-name"
            label="Dataset name"
            value={name()}
            onInput={(value) => {
              setName(value);
              setNameError(undefined);
            }}
            error={nameError()}
            hint={`Letters, digits, '.', '_' and '-'; up to ${MAX_NAME_LENGTH} characters. Train on it by this name.`}
            placeholder="from the file's name"
          />
          <button
            type="submit"
            class="primary"
            disabled={uploading() || !canChangeServer()}
            title={canChangeServer() ? undefined : ADMIN_ONLY}
          >
            {uploading() ? 'Uploading…' : 'Upload'}
          </button>
        </div>
        <span role="status" class="muted ft-status" data-testid="dataset-notice">
          {notice() ?? ''}
        </span>
      </form>
      <Show when={error()}>
        <p class="alert" role="alert" data-testid="dataset-error">
          {error()}
        </p>
      </Show>
      <Show when={props.store.listError() && !props.store.datasets()}>
        <p class="alert" role="alert" data-testid="datasets-list-error">
          Cannot list the datasets: {props.store.listError()}
        </p>
      </Show>
      <Show
        when={props.store.datasets()}
        fallback={
          <Show when={!props.store.listError()}>
            <p class="loading">Loading datasets…</p>
          </Show>
        }
      >
        {(list) => (
          <Show when={list().length > 0} fallback={<p class="muted" data-testid="no-datasets">No datasets uploaded yet.</p>}>
            <div class="table-wrap">
              <table class="ft-datasets stack-on-phone">
                <caption class="visually-hidden">Uploaded datasets; choose one's name to see its first rows</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Format</th>
                    <th scope="col">Rows</th>
                    <th scope="col">Tokens</th>
                    <th scope="col">Size</th>
                    <th scope="col">Created</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={list()}>
                    {(dataset) => (
                      <DatasetRowView
                        dataset={dataset}
                        open={shown()?.name === dataset.name}
                        confirming={confirmation.asking() === dataset.name}
                        deleting={deleting() === dataset.name}
                        onShow={() => void show(dataset.name)}
                        onAskDelete={() => confirmation.ask(dataset.name)}
                        onDelete={() => void remove(dataset.name)}
                        onKeep={() => confirmation.keep(dataset.name)}
                      />
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </Show>
        )}
      </Show>
      <Show when={shown()}>{(current) => <Preview name={current().name} data={current().data} error={current().error} />}</Show>
    </section>
  );
}

function DatasetRowView(props: {
  dataset: Dataset;
  open: boolean;
  confirming: boolean;
  deleting: boolean;
  onShow: () => void;
  onAskDelete: () => void;
  onDelete: () => void;
  onKeep: () => void;
}) {
  const name = () => props.dataset.name;
  return (
    <tr data-testid="dataset-row" data-name={name()} class={props.open ? 'active-row' : undefined}>
      <th scope="row">
        <button
          type="button"
          class="link ft-job-name"
          id={rowId(name(), 'show')}
          aria-expanded={props.open}
          aria-controls="ds-preview"
          title={`Show the first ${PREVIEW_ROWS} rows of ${name()}`}
          onClick={props.onShow}
        >
          {name()}
        </button>
      </th>
      <td data-label="Format" data-testid="dataset-format">
        {props.dataset.format}
      </td>
      <td data-label="Rows" data-testid="dataset-rows">
        {count(props.dataset.rows)}
      </td>
      <td data-label="Tokens">{count(props.dataset.tokens)}</td>
      <td data-label="Size">{formatBytes(props.dataset.sizeBytes)}</td>
      <td data-label="Created">
        <DayAndTime iso={props.dataset.createdAt} />
      </td>
      <td class="ft-actions-cell">
        <div class="ft-swap">
          <div class="ft-swap-ghost" aria-hidden="true">
            <div class="row-actions">
              <span class="button">Delete</span>
            </div>
            <div class="row-actions ft-confirm">
              <span>Delete?</span>
              <span class="button">Yes, delete</span>
              <span class="button">No</span>
            </div>
          </div>
          <Show
            when={props.confirming}
            fallback={
              <div class="row-actions">
                <button
                  type="button"
                  class="danger"
                  id={rowId(name(), 'delete')}
                  disabled={props.deleting || !canChangeServer()}
                  title={canChangeServer() ? undefined : ADMIN_ONLY}
                  aria-label={`Delete the dataset ${name()}`}
                  onClick={props.onAskDelete}
                >
                  {props.deleting ? 'Deleting…' : 'Delete'}
                </button>
              </div>
            }
          >
            <div
              class="row-actions ft-confirm"
              role="group"
              aria-label={`Delete the dataset ${name()}?`}
              onKeyDown={(event) => {
                if (event.key === 'Escape') props.onKeep();
              }}
            >
              <span>Delete?</span>
              <button type="button" class="danger" disabled={!canChangeServer()} onClick={props.onDelete}>
                Yes, delete
              </button>
              <button type="button" id={rowId(name(), 'no')} onClick={props.onKeep}>
                No
              </button>
            </div>
          </Show>
        </div>
      </td>
    </tr>
  );
}

/** Whether a turn's text is long enough to show collapsed. */
export function isLongTurn(text: string): boolean {
  return text.length > PREVIEW_CHARS || text.split('\n').length > PREVIEW_LINES;
}

function Turn(props: { role: string; content: string }) {
  const [open, setOpen] = createSignal(false);
  const long = () => isLongTurn(props.content);
  return (
    <div class="ft-turn" data-role={props.role} data-testid="preview-turn">
      <span class="ft-turn-role">{props.role}:</span>{' '}
      <span class="ft-turn-text" classList={{ 'ft-turn-collapsed': long() && !open() }}>
        {props.content}
      </span>
      <Show when={long()}>
        <button type="button" class="link ft-turn-toggle" aria-expanded={open()} onClick={() => setOpen(!open())}>
          {open() ? 'Show less' : 'Show more'}
        </button>
      </Show>
    </div>
  );
}

function Preview(props: { name: string; data?: DatasetPreview; error?: string }) {
  return (
    <div id="ds-preview" class="ft-preview" data-testid="dataset-preview" data-name={props.name} aria-live="polite">
      <h3 class="ft-subtitle">
        First rows of {props.name}
        <Show when={props.data}>{(d) => ` (${d().format}, ${count(d().rows)} rows)`}</Show>
      </h3>
      <Show when={props.error}>
        <p class="alert" role="alert">
          {props.error}
        </p>
      </Show>
      <Show when={!props.data && !props.error}>
        <p class="loading">Reading the first rows…</p>
      </Show>
      <Show when={props.data}>
        {(d) => (
          <ol class="ft-preview-rows">
            <For each={d().preview}>
              {(row) => (
                <li data-testid="preview-row" data-line={row.line}>
                  <span class="muted ft-line">line {row.line}</span>
                  <For each={row.messages}>{(turn) => <Turn role={turn.role} content={turn.content} />}</For>
                </li>
              )}
            </For>
          </ol>
        )}
      </Show>
    </div>
  );
}
