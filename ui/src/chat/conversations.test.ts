import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Turn } from './turns';
import { createConversations, LIST_KEY, parseList, titleOf, turnsKey, UNDO_MS } from './conversations';

// a question sent here goes nowhere (the browser flows send them); what was stopped is counted
const stopped = vi.hoisted(() => ({ count: 0 }));
vi.mock('../api/ws', () => ({
  subscribe: () => () => {
    stopped.count += 1;
  },
}));

/** A Storage that keeps its items in a Map (each test gets its own). */
class FakeStorage implements Storage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
}

const turn = (id: number, role: Turn['role'], content: string, status: Turn['status'] = 'done'): Turn => ({ id, role, content, status });
const saved = (turns: Turn[]) => JSON.stringify({ turns, webSearch: false, adapter: null });
const stored = (store: Storage) => parseList(store.getItem(LIST_KEY));

/** A clock that moves on one millisecond each time it is read. */
function clock(start = 1_000_000) {
  let t = start;
  return () => (t += 1);
}

describe('conversations', () => {
  let store: FakeStorage;
  beforeEach(() => {
    store = new FakeStorage();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('says which conversation is answering, also while another is open', () => {
    const list = createConversations(store, clock());
    const a = list.openId();
    expect(list.answering(a)).toBe(false);
    list.current().send('Tell a story');
    list.create();
    expect(list.openId()).not.toBe(a);
    expect(list.answering(a)).toBe(true);
    expect(list.answering(list.openId())).toBe(false);
    list.get(a).stop();
    expect(list.answering(a)).toBe(false);
  });

  it('starts with one empty conversation, open, and keeps the list in one key', () => {
    const list = createConversations(store, clock());
    expect(list.entries()).toHaveLength(1);
    expect(list.openId()).toBe(list.entries()[0].id);
    expect(stored(store)).toEqual({ open: list.openId(), items: list.entries() });
  });

  it('migrates the single conversation from before the list as the first one, nothing lost', () => {
    const turns = [turn(1, 'user', 'What is the capital of France?'), turn(2, 'assistant', 'Paris.')];
    store.setItem('switchboard.chat.v1', saved(turns));
    const list = createConversations(store, clock());
    expect(list.entries()).toHaveLength(1);
    const [first] = list.entries();
    expect(first.title).toBe('What is the capital of France?');
    expect(list.openId()).toBe(first.id);
    expect(list.current().state.turns.map((t) => t.content)).toEqual(['What is the capital of France?', 'Paris.']);
    expect(JSON.parse(store.getItem(turnsKey(first.id)) ?? '{}').turns).toEqual(turns);
    expect(store.getItem('switchboard.chat.v1')).toBeNull();
    // and a second start finds the list, not a second migration
    expect(createConversations(store, clock()).entries().map((e) => e.id)).toEqual([first.id]);
  });

  it('titles by the first question, lists the most recent first, and reopens the open one', () => {
    const list = createConversations(store, clock());
    const a = list.openId();
    // a second New chat while this one has no question opens it rather than another empty one
    expect(list.create()).toBe(a);
    // sending needs the websocket: set the turns the way a finished question leaves them
    list.get(a).replace([turn(1, 'user', 'First')]);
    list.rename(a, '');
    const b = list.create();
    expect(b).not.toBe(a);
    list.get(b).replace([turn(1, 'user', 'Second question\nwith a second line'), turn(2, 'assistant', 'Yes.')]);
    list.rename(b, '');
    expect(list.entries().find((e) => e.id === b)?.title).toBe('Second question');
    list.open(a);
    const again = createConversations(store, clock());
    expect(again.openId()).toBe(a);
    expect(again.entries().map((e) => e.title)).toEqual(['Second question', 'First']);
  });

  it('renames; an empty name goes back to the first question', () => {
    const list = createConversations(store, clock());
    const id = list.openId();
    list.get(id).replace([turn(1, 'user', 'Tell me about NATS')]);
    list.rename(id, '  Messaging notes ');
    expect(list.entries()[0]).toMatchObject({ title: 'Messaging notes', named: true });
    list.rename(id, '   ');
    expect(list.entries()[0]).toMatchObject({ title: 'Tell me about NATS', named: false });
  });

  it('deletes with an Undo that restores the conversation whole, and deletes for good when it runs out', () => {
    const list = createConversations(store, clock());
    const a = list.openId();
    list.get(a).replace([turn(1, 'user', 'Keep me'), turn(2, 'assistant', 'Kept.')]);
    list.rename(a, 'Important');
    const b = list.create();
    list.open(a);

    list.remove(a);
    expect(list.entries().map((e) => e.id)).toEqual([b]);
    expect(list.openId()).toBe(b);
    expect(store.getItem(turnsKey(a))).toBeNull();
    expect(list.pendingUndo()?.message).toBe('Deleted “Important”');

    list.pendingUndo()?.undo();
    expect(list.pendingUndo()).toBeUndefined();
    expect(list.entries().map((e) => e.id).sort()).toEqual([a, b].sort());
    expect(list.openId()).toBe(a);
    expect(list.entries().find((e) => e.id === a)).toMatchObject({ title: 'Important', named: true });
    expect(list.current().state.turns.map((t) => t.content)).toEqual(['Keep me', 'Kept.']);

    list.remove(a);
    vi.advanceTimersByTime(UNDO_MS + 1);
    expect(list.pendingUndo()).toBeUndefined();
    expect(store.getItem(turnsKey(a))).toBeNull();
    expect(createConversations(store, clock()).entries().map((e) => e.id)).toEqual([b]);
  });

  it('deleting the last conversation leaves a new empty one open', () => {
    const list = createConversations(store, clock());
    const only = list.openId();
    list.get(only).replace([turn(1, 'user', 'Alone')]);
    list.rename(only, '');
    list.remove(only);
    expect(list.entries()).toHaveLength(1);
    expect(list.openId()).not.toBe(only);
    expect(list.current().state.turns).toEqual([]);
  });

  it('clears with an Undo that puts the turns back', () => {
    const list = createConversations(store, clock());
    const id = list.openId();
    list.get(id).replace([turn(1, 'user', 'Hi'), turn(2, 'assistant', 'Hello!')]);
    list.rename(id, '');
    list.clear(id);
    expect(list.current().state.turns).toEqual([]);
    expect(list.entries()[0].title).toBe('');
    expect(list.pendingUndo()?.message).toBe('Chat cleared');
    list.pendingUndo()?.undo();
    expect(list.current().state.turns.map((t) => t.content)).toEqual(['Hi', 'Hello!']);
    expect(list.entries()[0].title).toBe('Hi');
    expect(JSON.parse(store.getItem(turnsKey(id)) ?? '{}').turns).toHaveLength(2);
  });

  it('resends an edited question with an Undo that puts the dropped turns back and stops the new answer', () => {
    const list = createConversations(store, clock());
    const id = list.openId();
    const chat = list.get(id);
    chat.replace([turn(1, 'user', 'Hi'), turn(2, 'assistant', 'Hello!'), turn(3, 'user', 'Capital of France?'), turn(4, 'assistant', 'Paris.')]);
    list.rename(id, '');
    stopped.count = 0;
    expect(chat.edit(1, 'Good morning')).toBe(true);
    expect(chat.state.turns.map((t) => t.content)).toEqual(['Good morning', '']);
    expect(list.entries()[0].title).toBe('Good morning');
    expect(list.pendingUndo()?.message).toBe('Question resent; the 3 messages after it were removed');
    list.pendingUndo()?.undo();
    expect(stopped.count).toBe(1);
    expect(list.pendingUndo()).toBeUndefined();
    expect(chat.state.turns.map((t) => [t.content, t.status])).toEqual([
      ['Hi', 'done'],
      ['Hello!', 'done'],
      ['Capital of France?', 'done'],
      ['Paris.', 'done'],
    ]);
    expect(list.entries()[0].title).toBe('Hi');
    expect(JSON.parse(store.getItem(turnsKey(id)) ?? '{}').turns).toHaveLength(4);
  });

  it('says an edited last question only replaced its answer, and offers nothing when the edit was refused', () => {
    const list = createConversations(store, clock());
    const chat = list.get(list.openId());
    chat.replace([turn(1, 'user', 'Hi'), turn(2, 'assistant', 'Hello!')]);
    expect(chat.edit(2, 'not a question')).toBe(false);
    expect(list.pendingUndo()).toBeUndefined();
    expect(chat.edit(1, 'Hi there')).toBe(true);
    expect(list.pendingUndo()?.message).toBe('Question resent; its old answer was removed');
    vi.advanceTimersByTime(UNDO_MS);
    expect(list.pendingUndo()).toBeUndefined();
  });

  it('one Undo reverts every change made while it was on offer', () => {
    const list = createConversations(store, clock());
    const a = list.openId();
    list.get(a).replace([turn(1, 'user', 'A')]);
    list.rename(a, '');
    const b = list.create();
    list.get(b).replace([turn(1, 'user', 'B')]);
    list.rename(b, '');
    list.remove(a);
    list.clear(b);
    expect(list.pendingUndo()?.message).toBe('Chat cleared, and 1 more');
    list.pendingUndo()?.undo();
    expect(list.entries().map((e) => e.id).sort()).toEqual([a, b].sort());
    expect(list.get(a).state.turns.map((t) => t.content)).toEqual(['A']);
    expect(list.get(b).state.turns.map((t) => t.content)).toEqual(['B']);
  });

  it('two deletes in a row are both undone, and both final once the offer ends', () => {
    vi.useFakeTimers();
    try {
      const list = createConversations(store, clock());
      const a = list.openId();
      list.get(a).replace([turn(1, 'user', 'A')]);
      const b = list.create();
      list.get(b).replace([turn(1, 'user', 'B')]);
      list.remove(a);
      list.remove(b);
      list.pendingUndo()?.undo(); // (deleting the last one had opened a new empty chat; it stays)
      expect(list.entries().map((e) => e.id)).toEqual(expect.arrayContaining([a, b]));
      expect(list.get(a).state.turns.map((t) => t.content)).toEqual(['A']);
      list.remove(a);
      list.remove(b);
      vi.advanceTimersByTime(UNDO_MS + 1);
      expect(list.pendingUndo()).toBeUndefined();
      expect(list.entries().map((e) => e.id)).not.toContain(a);
      expect(store.getItem(turnsKey(a))).toBeNull();
      expect(store.getItem(turnsKey(b))).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('recovers the conversations from their own keys when the list is corrupt', () => {
    store.setItem(turnsKey('x1'), saved([turn(1, 'user', 'Lost list')]));
    store.setItem(LIST_KEY, '{not json');
    const list = createConversations(store, clock());
    expect(list.entries().map((e) => [e.id, e.title])).toEqual([['x1', 'Lost list']]);
    expect(stored(store)?.items.map((e) => e.id)).toEqual(['x1']);
  });

  it('drops entries that are not entries and keeps the rest', () => {
    store.setItem(
      LIST_KEY,
      JSON.stringify({ open: 'ok', items: [{ id: 'ok', title: 'Fine', named: true, usedAt: 5 }, { id: 3 }, null, 'x'] }),
    );
    store.setItem(turnsKey('ok'), saved([]));
    const list = createConversations(store, clock());
    expect(list.entries().map((e) => e.id)).toEqual(['ok']);
    expect(list.openId()).toBe('ok');
  });

  it('takes another tab’s list, keeping its own open conversation while it exists', () => {
    // jsdom's StorageEvent wants its own Storage
    localStorage.clear();
    const store = localStorage;
    const list = createConversations(store, clock());
    const mine = list.openId();
    const theirs = { id: 'other', title: 'From the other tab', named: false, usedAt: 9_999_999 };
    const raise = () =>
      window.dispatchEvent(new StorageEvent('storage', { key: LIST_KEY, newValue: store.getItem(LIST_KEY), storageArea: store }));
    store.setItem(LIST_KEY, JSON.stringify({ open: 'other', items: [...list.entries(), theirs] }));
    raise();
    expect(list.entries().map((e) => e.id)).toEqual(['other', mine]);
    expect(list.openId()).toBe(mine);
    // the other tab deleted the one open here: this tab opens the most recent
    store.setItem(LIST_KEY, JSON.stringify({ open: 'other', items: [theirs] }));
    raise();
    expect(list.openId()).toBe('other');
    // garbage from the other tab changes nothing
    store.setItem(LIST_KEY, 'garbage');
    raise();
    expect(list.entries().map((e) => e.id)).toEqual(['other']);
  });
});

describe('titleOf', () => {
  it('takes the first line and shortens a long one', () => {
    expect(titleOf('  Hello\nthere ')).toBe('Hello');
    expect(titleOf('x'.repeat(200))).toHaveLength(80);
    expect(titleOf(undefined)).toBe('');
  });
});
