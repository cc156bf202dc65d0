import { useCallback, useEffect, useRef, useState } from 'react';
import { apiGet, type Query } from '../api/client';
import type { AnomalyEvent, EventList } from '../api/types';
import { errorText } from './VerdictApi';

export interface EventPages {
  items: AnomalyEvent[];
  /** More pages to load. */
  hasMore: boolean;
  loading: boolean;
  /** Whether the first page has come. */
  loaded: boolean;
  error: string | undefined;
  loadMore(): void;
  /** Change one event in place (an optimistic verdict, or its revert). */
  update(id: number, change: (event: AnomalyEvent) => AnomalyEvent): void;
}

interface State {
  items: AnomalyEvent[];
  nextCursor: string | null;
  loading: boolean;
  loaded: boolean;
  error: string | undefined;
}

const START: State = { items: [], nextCursor: null, loading: true, loaded: false, error: undefined };

/**
 * GET /v1/events in keyset pages: the first page when the query changes
 * (the previous request aborted), then each next page appended on loadMore.
 */
export function useEventPages(query: Query): EventPages {
  const [state, setState] = useState<State>(START);
  const stateRef = useRef(state);
  stateRef.current = state;
  const queryRef = useRef(query);
  queryRef.current = query;
  const abortRef = useRef<AbortController | undefined>(undefined);
  const key = JSON.stringify(query);

  const fetchPage = useCallback((cursor: string | null) => {
    abortRef.current?.abort();
    const abort = new AbortController();
    abortRef.current = abort;
    setState((s) => (cursor ? { ...s, loading: true, error: undefined } : START));
    // Marked at once, so that a second loadMore before the render waits.
    stateRef.current = { ...stateRef.current, loading: true };
    apiGet<EventList>('/v1/events', { ...queryRef.current, cursor }, abort.signal).then(
      (page) => {
        if (abort.signal.aborted) return;
        setState((s) => {
          const known = new Set(s.items.map((e) => e.id));
          const items = cursor ? [...s.items, ...page.items.filter((e) => !known.has(e.id))] : page.items;
          return { items, nextCursor: page.nextCursor, loading: false, loaded: true, error: undefined };
        });
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        setState((s) => ({ ...s, loading: false, loaded: true, error: errorText(error) }));
      },
    );
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: key stands for the query (read from queryRef)
  useEffect(() => {
    fetchPage(null);
    return () => abortRef.current?.abort();
  }, [key, fetchPage]);

  const loadMore = useCallback(() => {
    const { loading, nextCursor } = stateRef.current;
    if (loading || !nextCursor) return;
    fetchPage(nextCursor);
  }, [fetchPage]);

  const update = useCallback((id: number, change: (event: AnomalyEvent) => AnomalyEvent) => {
    setState((s) => ({ ...s, items: s.items.map((e) => (e.id === id ? change(e) : e)) }));
  }, []);

  return {
    items: state.items,
    hasMore: state.nextCursor !== null,
    loading: state.loading,
    loaded: state.loaded,
    error: state.error,
    loadMore,
    update,
  };
}
