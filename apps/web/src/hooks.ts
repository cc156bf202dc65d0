import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, apiGet, type Query } from './api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/**
 * GET a path (with a query) and keep the answer; reloads when path or query
 * change, and every `refreshMs` when given (the Queues page lives on this).
 */
export function useApi<T>(path: string | undefined, query?: Query, refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const key = path === undefined ? undefined : `${path}?${JSON.stringify(query ?? {})}`;
  const queryRef = useRef(query);
  queryRef.current = query;

  // biome-ignore lint/correctness/useExhaustiveDependencies: key stands for path and query; tick reloads
  useEffect(() => {
    if (path === undefined) return;
    const abort = new AbortController();
    setLoading(true);
    apiGet<T>(path, queryRef.current, abort.signal).then(
      (answer) => {
        setData(answer);
        setError(undefined);
        setLoading(false);
      },
      (caught: unknown) => {
        if (abort.signal.aborted) return;
        setError(caught instanceof ApiError ? caught.message : String(caught));
        setLoading(false);
      },
    );
    return () => abort.abort();
  }, [key, tick]);

  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(() => setTick((t) => t + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** Calls `handler` for keys pressed outside text fields (the review page's j/k/t/f). */
export function useKeys(handler: (key: string, event: KeyboardEvent) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const listener = (event: KeyboardEvent) => {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const target = event.target as HTMLElement | null;
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
      ref.current(event.key, event);
    };
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);
}
