/** The list of conversations kept in the browser: ids, titles, last use, which one is open; new, rename,
 * delete, clear, and a question edited and resent (which drops the turns after it), the last three undoable for a
 * few seconds (one Undo reverts all made while it is offered). The list is one localStorage key
 * (`switchboard.chats.v1`); each conversation's turns are under `switchboard.chat.v1.<id>`. */
import { createSignal } from 'solid-js';
import { createConversation, STORAGE_KEY, type Conversation } from './conversation';
import type { Turn } from './turns';

export const LIST_KEY = 'switchboard.chats.v1';
/** How long Undo is offered after a delete, a clear or an edited question. */
export const UNDO_MS = 8000;
const TITLE_MAX = 80;

export interface ConversationEntry {
  id: string;
  /** the first question, or the name given by Rename; empty for a conversation with no question yet */
  title: string;
  /** true once renamed: the title no longer follows the first question */
  named: boolean;
  /** when a question was last asked in it (ms since the epoch); the list shows the most recent first */
  usedAt: number;
}

export interface SavedList {
  open: string;
  items: ConversationEntry[];
}

/** What the toast offers to take back. */
export interface Undo {
  message: string;
  undo: () => void;
}

export function turnsKey(id: string): string {
  return `${STORAGE_KEY}.${id}`;
}

const isEntry = (e: unknown): e is ConversationEntry => {
  const x = e as ConversationEntry | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.id === 'string' &&
    x.id.length > 0 &&
    typeof x.title === 'string' &&
    typeof x.named === 'boolean' &&
    typeof x.usedAt === 'number'
  );
};

/** The stored list, or undefined when it is missing or not a list (entries that are not entries are dropped). */
export function parseList(raw: string | null): SavedList | undefined {
  try {
    const saved = JSON.parse(raw ?? 'null') as { open?: unknown; items?: unknown } | null;
    if (!saved || typeof saved !== 'object' || !Array.isArray(saved.items)) return undefined;
    const seen = new Set<string>();
    const items = saved.items.filter((e): e is ConversationEntry => isEntry(e) && !seen.has(e.id) && Boolean(seen.add(e.id)));
    return { open: typeof saved.open === 'string' ? saved.open : '', items };
  } catch {
    return undefined;
  }
}

/** Most recently used first. */
export function byRecent(items: readonly ConversationEntry[]): ConversationEntry[] {
  return [...items].sort((a, b) => b.usedAt - a.usedAt);
}

/** A title from a question: its first line, at most 80 characters. */
export function titleOf(question: string | undefined): string {
  const line = (question ?? '').trim().split('\n')[0].trim();
  return line.length > TITLE_MAX ? `${line.slice(0, TITLE_MAX - 1)}…` : line;
}

function firstQuestion(turns: readonly Turn[]): string | undefined {
  return turns.find((t) => t.role === 'user')?.content;
}

function storedTurns(store: Storage, key: string): Turn[] {
  try {
    const saved = JSON.parse(store.getItem(key) ?? 'null') as { turns?: unknown } | null;
    return Array.isArray(saved?.turns) ? (saved.turns as Turn[]) : [];
  } catch {
    return [];
  }
}

export function newId(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** The list rebuilt from what storage holds: the single conversation from before the list (moved under its own
 * key, nothing lost), and every conversation's turns whose list entry is missing (the list was lost or corrupt). */
export function recover(store: Storage, now: number): ConversationEntry[] {
  const items: ConversationEntry[] = [];
  const prefix = `${STORAGE_KEY}.`;
  const keys = Array.from({ length: store.length }, (_, i) => store.key(i)).filter((k): k is string => k !== null);
  for (const key of keys.filter((k) => k.startsWith(prefix)).sort()) {
    const id = key.slice(prefix.length);
    if (id) items.push({ id, title: titleOf(firstQuestion(storedTurns(store, key))), named: false, usedAt: now - items.length - 1 });
  }
  const legacy = store.getItem(STORAGE_KEY);
  if (legacy !== null) {
    const id = newId();
    try {
      store.setItem(turnsKey(id), legacy);
      store.removeItem(STORAGE_KEY);
      // it was the open one: the most recent
      items.push({ id, title: titleOf(firstQuestion(storedTurns(store, turnsKey(id)))), named: false, usedAt: now });
    } catch {
      /* storage full: leave it where it is */
    }
  }
  return items;
}

export function createConversations(store: Storage | undefined = globalThis.localStorage, now: () => number = Date.now) {
  const read = (): SavedList | undefined => (store ? parseList(store.getItem(LIST_KEY)) : undefined);

  let initial = read();
  if (!initial && store) initial = { open: '', items: recover(store, now()) };
  initial ??= { open: '', items: [] };
  const [items, setItems] = createSignal<ConversationEntry[]>(initial.items);
  const [openId, setOpenId] = createSignal<string>(
    initial.items.some((e) => e.id === initial.open) ? initial.open : (byRecent(initial.items)[0]?.id ?? ''),
  );
  const [pending, setPending] = createSignal<Undo>();
  const cache = new Map<string, Conversation>();
  // bumped when a conversation is made, so `answering` sees one made after it first looked
  const [made, setMade] = createSignal(0);

  // an entry that did not change stays the same object, so the view keeps its row (and a rename in progress)
  const take = (fresh: ConversationEntry[]): ConversationEntry[] => {
    const before = new Map(items().map((e) => [e.id, e]));
    const list = fresh.map((e) => {
      const old = before.get(e.id);
      return old && old.title === e.title && old.named === e.named && old.usedAt === e.usedAt ? old : e;
    });
    setItems(list);
    return list;
  };
  const write = (fresh: ConversationEntry[]) => {
    const list = take(fresh);
    try {
      store?.setItem(LIST_KEY, JSON.stringify({ open: openId(), items: list } satisfies SavedList));
    } catch {
      /* full or unavailable: the list still works in this tab */
    }
  };
  /** Change the list as stored now (another tab may have changed it since this one read it). */
  const change = (fn: (list: ConversationEntry[]) => ConversationEntry[]) => write(fn(read()?.items ?? items()));

  // turns under no entry are left over from a delete whose page closed before the undo ran out
  if (store) {
    const listed = new Set(items().map((e) => turnsKey(e.id)));
    const keys = Array.from({ length: store.length }, (_, i) => store.key(i));
    for (const key of keys) if (key?.startsWith(`${STORAGE_KEY}.`) && !listed.has(key)) store.removeItem(key);
  }

  /** The conversation `id`, made once and kept, so one that streams keeps streaming while another is shown. */
  function get(id: string): Conversation {
    let chat = cache.get(id);
    if (!chat) {
      const inner = createConversation(store, turnsKey(id));
      // whatever asks a question makes this the most recent conversation (and may change its first question)
      const asking =
        <A extends unknown[]>(fn: (...args: A) => boolean) =>
        (...args: A): boolean => {
          const sent = fn(...args);
          if (sent) retitle(id, true);
          return sent;
        };
      chat = {
        ...inner,
        send: asking(inner.send),
        retry: asking(inner.retry),
        regenerate: asking(inner.regenerate),
        continueAnswer: asking(inner.continueAnswer),
        edit: asking((questionId: number, text: string, activeLabel?: string) => edited(id, inner, questionId, text, activeLabel)),
      };
      cache.set(id, chat);
      setMade((n) => n + 1);
    }
    return chat;
  }

  /** True while conversation `id` streams an answer (shown or not); never loads one that is not in use. */
  function answering(id: string): boolean {
    made();
    return cache.get(id)?.busy() ?? false;
  }

  /** The title follows the first question unless renamed; `used` also makes it the most recent. */
  function retitle(id: string, used = false): void {
    const turns = get(id).state.turns;
    change((list) =>
      list.map((e) =>
        e.id === id ? { ...e, title: e.named ? e.title : titleOf(firstQuestion(turns)), usedAt: used ? now() : e.usedAt } : e,
      ),
    );
  }

  function open(id: string): void {
    if (!items().some((e) => e.id === id)) return;
    setOpenId(id);
    change((list) => list);
  }

  /** Open a new conversation (or the one with no question yet, rather than a second empty one); returns its id. */
  function create(): string {
    const empty = items().find((e) => !e.named && !e.title && !get(e.id).state.turns.length);
    if (empty) {
      setOpenId(empty.id);
      change((list) => list.map((e) => (e.id === empty.id ? { ...e, usedAt: now() } : e)));
      return empty.id;
    }
    const id = newId();
    setOpenId(id);
    change((list) => [...list, { id, title: '', named: false, usedAt: now() }]);
    return id;
  }

  /** Name a conversation; an empty name goes back to the first question. */
  function rename(id: string, title: string): void {
    const name = title.trim().slice(0, TITLE_MAX);
    const first = titleOf(firstQuestion(get(id).state.turns));
    change((list) => list.map((e) => (e.id === id ? { ...e, title: name || first, named: Boolean(name) } : e)));
  }

  let undoTimer: ReturnType<typeof setTimeout> | undefined;
  // what one Undo puts back: every delete or clear made while the offer was up (a second delete within
  // UNDO_MS must not make the first one final)
  let offers: { undo: () => void; done: () => void }[] = [];
  /** Offer Undo for UNDO_MS (counted from the latest change); one Undo reverts every change on offer. */
  function offer(message: string, undo: () => void, done: () => void = () => {}): void {
    clearTimeout(undoTimer);
    offers.push({ undo, done });
    undoTimer = setTimeout(dismissUndo, UNDO_MS);
    setPending({
      message: offers.length === 1 ? message : `${message}, and ${offers.length - 1} more`,
      undo: () => {
        clearTimeout(undoTimer);
        const taken = offers.reverse();
        offers = [];
        setPending(undefined);
        for (const offered of taken) offered.undo(); // newest first: each puts back what it found
      },
    });
  }

  /** Let the offered Undo go (what it would restore is gone for good). */
  function dismissUndo(): void {
    clearTimeout(undoTimer);
    setPending(undefined);
    const taken = offers;
    offers = [];
    for (const offered of taken) offered.done();
  }

  /** Delete a conversation (stopping its answer); Undo brings it back whole, turns, title and place. */
  function remove(id: string): void {
    const entry = items().find((e) => e.id === id);
    if (!entry) return;
    const key = turnsKey(id);
    cache.get(id)?.stop();
    const saved = store?.getItem(key) ?? null;
    cache.delete(id);
    store?.removeItem(key);
    change((list) => list.filter((e) => e.id !== id));
    if (openId() === id) {
      const next = byRecent(items())[0];
      if (next) open(next.id);
      else create();
    }
    offer(
      `Deleted “${entry.title || 'New chat'}”`,
      () => {
        if (saved !== null) store?.setItem(key, saved);
        change((list) => (list.some((e) => e.id === id) ? list : [...list, entry]));
        open(id);
      },
      // a save still pending in the deleted conversation may have written its turns back
      () => {
        if (!items().some((e) => e.id === id)) store?.removeItem(key);
      },
    );
  }

  /** Resend question `questionId` of conversation `id` with new text, dropping the turns from it on; Undo puts them
   * back (and stops the new answer). */
  function edited(id: string, chat: Conversation, questionId: number, text: string, activeLabel?: string): boolean {
    const turns = JSON.parse(JSON.stringify(chat.state.turns)) as Turn[];
    if (!chat.edit(questionId, text, activeLabel)) return false;
    const later = turns.length - turns.findIndex((t) => t.id === questionId) - 1;
    offer(later === 1 ? 'Question resent; its old answer was removed' : `Question resent; the ${later} messages after it were removed`, () => {
      get(id).replace(turns);
      retitle(id);
    });
    return true;
  }

  /** Empty a conversation; Undo puts its turns back. */
  function clear(id: string): void {
    const chat = get(id);
    chat.stop();
    const turns = JSON.parse(JSON.stringify(chat.state.turns)) as Turn[];
    if (!turns.length) return;
    chat.clear();
    retitle(id);
    offer('Chat cleared', () => {
      get(id).replace(turns);
      retitle(id);
    });
  }

  // another tab changed the list: take it, keeping this tab's open conversation while it exists
  globalThis.addEventListener?.('storage', (event: StorageEvent) => {
    if (!store || event.key !== LIST_KEY || event.storageArea !== store) return;
    const list = read();
    if (!list) return;
    take(list.items);
    if (!list.items.some((e) => e.id === openId())) {
      const next = byRecent(list.items)[0];
      if (next) setOpenId(next.id);
      else create();
    }
  });

  // an answer that was streaming when the page went away picks up in its own conversation, shown or not
  for (const entry of items()) if (store && storedTurns(store, turnsKey(entry.id)).some((t) => t.status === 'streaming')) get(entry.id);

  if (!items().length) create();
  else if (!initial.open) change((list) => list); // recovered or migrated: keep the list it found

  return {
    /** the conversations, most recent first */
    entries: () => byRecent(items()),
    openId,
    /** the open conversation */
    current: () => get(openId()),
    get,
    answering,
    open,
    create,
    rename,
    remove,
    clear,
    /** the Undo on offer, if any */
    pendingUndo: pending,
    dismissUndo,
  };
}

export type Conversations = ReturnType<typeof createConversations>;

let shared: Conversations | undefined;

/** The app's conversations; they live outside the view so switching sections keeps them. */
export function conversations(): Conversations {
  shared ??= createConversations();
  return shared;
}
