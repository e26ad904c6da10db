import { cleanup, fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import { createSignal, type Setter } from 'solid-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Dataset, DatasetPreview, StatusData } from '../api/operations';
import { ADMIN_ONLY } from '../shell/access';
import * as statusModule from '../shell/status';
import type { Outcome } from './datasets';
import { DatasetsPanel } from './DatasetsPanel';

vi.mock('../shell/status', async () => {
  const { createSignal } = await import('solid-js');
  const [status, setStatus] = createSignal<StatusData | undefined>();
  return { status, setStatus };
});
const setStatus = (statusModule as unknown as { setStatus: Setter<StatusData | undefined> }).setStatus;

afterEach(cleanup);
beforeEach(() => setStatus(undefined));

const chat: Dataset = { name: 'support', format: 'chat', rows: 60, tokens: 12345, sizeBytes: 20480, createdAt: '2025-01-01T10:00:00Z' };
const alpaca: Dataset = { name: 'recipes', format: 'alpaca', rows: 3, tokens: 90, sizeBytes: 700, createdAt: '2025-01-02T10:00:00Z' };

function preview(name: string): DatasetPreview {
  const base = name === chat.name ? chat : alpaca;
  return {
    ...base,
    preview: [1, 2, 3, 4, 5].map((line) => ({
      line,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: `Question ${line}?` },
        { role: 'assistant', content: line === 2 ? 'long answer '.repeat(40) : `Answer ${line}.` },
      ],
    })),
  };
}

function setup(options: { upload?: Outcome; remove?: Outcome; list?: Dataset[] } = {}) {
  const [datasets, setDatasets] = createSignal<Dataset[] | undefined>(options.list ?? [chat, alpaca]);
  const [listError] = createSignal<string>();
  const store = {
    datasets,
    listError,
    upload: vi.fn(async (_name: string, _file: Blob) => options.upload ?? ({ ok: true, dataset: chat } as Outcome)),
    remove: vi.fn(async (name: string) => {
      const result = options.remove ?? ({ ok: true, dataset: null } as Outcome);
      if (result.ok) setDatasets((list) => list?.filter((d) => d.name !== name));
      return result;
    }),
    preview: vi.fn(async (name: string) => preview(name)),
  };
  render(() => <DatasetsPanel store={store} />);
  const picker = document.getElementById('ds-file') as HTMLInputElement;
  const pick = (file: File) => fireEvent.change(picker, { target: { files: [file] } });
  const name = () => document.getElementById('ds-name') as HTMLInputElement;
  const uploadButton = () => screen.getByRole('button', { name: 'Upload' });
  return { store, pick, name, uploadButton };
}

const row = (name: string) => screen.getAllByTestId('dataset-row').find((r) => r.dataset.name === name)!;
const jsonl = (name: string, text = '{"messages": []}\n') => new File([text], name, { type: 'application/json' });

describe('DatasetsPanel', () => {
  it('lists each dataset with its format, rows, tokens, size and date', () => {
    setup();
    expect(screen.getAllByTestId('dataset-row').map((r) => r.dataset.name)).toEqual(['support', 'recipes']);
    const cells = within(row('support'));
    expect(cells.getByTestId('dataset-format')).toHaveTextContent('chat');
    expect(cells.getByTestId('dataset-rows')).toHaveTextContent('60');
    expect(cells.getByText('12,345')).toBeInTheDocument();
    expect(cells.getByText('20 KB')).toBeInTheDocument();
    expect(row('support').textContent).toMatch(/2025/);
  });

  it('says when there are none', () => {
    setup({ list: [] });
    expect(screen.getByTestId('no-datasets')).toHaveTextContent('No datasets uploaded yet.');
  });

  it("names a picked file's dataset after it, and uploads it under that name", async () => {
    const { store, pick, name, uploadButton } = setup();
    const file = jsonl('My support set (v2).jsonl');
    pick(file);
    expect(name()).toHaveValue('My-support-set-v2');
    expect(screen.getByTestId('dataset-file')).toHaveTextContent('My support set (v2).jsonl');
    fireEvent.input(name(), { target: { value: 'support-v2' } });
    fireEvent.click(uploadButton());
    await waitFor(() => expect(store.upload).toHaveBeenCalledWith('support-v2', file));
    expect(await screen.findByTestId('dataset-notice')).toHaveTextContent('Uploaded “support”: 60 rows, chat format.');
    expect(name()).toHaveValue('');
  });

  it('takes a dropped file', () => {
    const { name } = setup();
    const drop = screen.getByTestId('dataset-drop');
    fireEvent.dragOver(drop, { dataTransfer: { files: [], dropEffect: 'none' } });
    expect(drop).toHaveClass('ft-drop-over');
    fireEvent.drop(drop, { dataTransfer: { files: [jsonl('dropped.json')] } });
    expect(drop).not.toHaveClass('ft-drop-over');
    expect(name()).toHaveValue('dropped');
  });

  it('refuses a file that is not .jsonl or .json, and Upload without a file', async () => {
    const { store, pick, uploadButton } = setup();
    pick(new File(['a,b'], 'table.csv'));
    expect(screen.getByTestId('error-ds-file')).toHaveTextContent('“table.csv” is not a .jsonl or .json file.');
    fireEvent.click(uploadButton());
    expect(screen.getByTestId('error-ds-file')).toHaveTextContent(/choose a \.jsonl or \.json file first/i);
    expect(document.getElementById('ds-file')).toHaveFocus();
    expect(store.upload).not.toHaveBeenCalled();
  });

  it('checks the name before sending', () => {
    const { store, pick, name, uploadButton } = setup();
    pick(jsonl('ok.jsonl'));
    fireEvent.input(name(), { target: { value: 'no spaces please' } });
    fireEvent.click(uploadButton());
    expect(screen.getByTestId('error-ds-name')).toHaveTextContent(/not spaces/);
    expect(name()).toHaveAttribute('aria-invalid', 'true');
    expect(name()).toHaveFocus();
    expect(store.upload).not.toHaveBeenCalled();
  });

  it("shows the server's complaint about the file in words, naming the line", async () => {
    const message = 'line 3: a chat row needs "messages" (a list of {role, content})';
    const { pick, uploadButton } = setup({ upload: { ok: false, message, field: 'file' } });
    pick(jsonl('bad.jsonl'));
    fireEvent.click(uploadButton());
    expect(await screen.findByTestId('dataset-error')).toHaveTextContent(message);
    expect(screen.getByTestId('dataset-error')).toHaveAttribute('role', 'alert');
  });

  it("shows the server's complaint about the name beside the name", async () => {
    const { pick, name, uploadButton } = setup({ upload: { ok: false, message: 'a dataset named support exists', field: 'name' } });
    pick(jsonl('support.jsonl'));
    fireEvent.click(uploadButton());
    expect(await screen.findByTestId('error-ds-name')).toHaveTextContent('a dataset named support exists');
    expect(name()).toHaveFocus();
    expect(screen.queryByTestId('dataset-error')).toBeNull();
  });

  it('shows the first rows of a dataset as turns, a long one collapsed', async () => {
    const { store } = setup();
    const open = within(row('support')).getByRole('button', { name: 'support' });
    fireEvent.click(open);
    expect(open).toHaveAttribute('aria-expanded', 'true');
    const panel = await screen.findByTestId('dataset-preview');
    await waitFor(() => expect(within(panel).getAllByTestId('preview-row')).toHaveLength(5));
    expect(store.preview).toHaveBeenCalledWith('support');
    expect(panel).toHaveTextContent('First rows of support (chat, 60 rows)');
    const first = within(panel).getAllByTestId('preview-row')[0];
    expect(first).toHaveTextContent('line 1');
    expect(within(first).getAllByTestId('preview-turn').map((t) => t.textContent)).toEqual([
      'system: You are terse.',
      'user: Question 1?',
      'assistant: Answer 1.',
    ]);
    const second = within(panel).getAllByTestId('preview-row')[1];
    const more = within(second).getByRole('button', { name: 'Show more' });
    expect(second.querySelector('.ft-turn-collapsed')).not.toBeNull();
    fireEvent.click(more);
    expect(second.querySelector('.ft-turn-collapsed')).toBeNull();
    expect(more).toHaveTextContent('Show less');
    // a second click closes it
    fireEvent.click(open);
    expect(screen.queryByTestId('dataset-preview')).toBeNull();
  });

  it('asks before deleting: No keeps the dataset, Yes deletes it', async () => {
    const { store } = setup();
    fireEvent.click(within(row('recipes')).getByRole('button', { name: 'Delete the dataset recipes' }));
    const ask = within(row('recipes')).getByRole('group', { name: 'Delete the dataset recipes?' });
    const no = within(ask).getByRole('button', { name: 'No' });
    await waitFor(() => expect(no).toHaveFocus());
    fireEvent.click(no);
    expect(within(row('recipes')).queryByRole('group')).toBeNull();
    expect(store.remove).not.toHaveBeenCalled();
    fireEvent.click(within(row('recipes')).getByRole('button', { name: 'Delete the dataset recipes' }));
    fireEvent.click(within(row('recipes')).getByRole('button', { name: 'Yes, delete' }));
    await waitFor(() => expect(store.remove).toHaveBeenCalledWith('recipes'));
    await waitFor(() => expect(screen.getAllByTestId('dataset-row').map((r) => r.dataset.name)).toEqual(['support']));
    expect(screen.getByTestId('dataset-notice')).toHaveTextContent('Deleted “recipes”.');
  });

  it('shows a refused delete in words', async () => {
    setup({ remove: { ok: false, message: `only an admin key may delete datasets. ${ADMIN_ONLY}`, field: null } });
    fireEvent.click(within(row('recipes')).getByRole('button', { name: 'Delete the dataset recipes' }));
    fireEvent.click(within(row('recipes')).getByRole('button', { name: 'Yes, delete' }));
    expect(await screen.findByTestId('dataset-error')).toHaveTextContent('only an admin key may delete datasets');
    expect(row('recipes')).toBeInTheDocument();
  });

  it('with a user key, Upload and Delete are disabled and say why; the rows still open', async () => {
    setStatus({ access: { role: 'user', keysRequired: true } } as StatusData);
    const { uploadButton } = setup();
    expect(uploadButton()).toBeDisabled();
    expect(uploadButton()).toHaveAttribute('title', ADMIN_ONLY);
    const del = within(row('support')).getByRole('button', { name: 'Delete the dataset support' });
    expect(del).toBeDisabled();
    expect(del).toHaveAttribute('title', ADMIN_ONLY);
    fireEvent.click(within(row('support')).getByRole('button', { name: 'support' }));
    expect(await screen.findByTestId('dataset-preview')).toBeInTheDocument();
  });
});
