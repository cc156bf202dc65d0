import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import type { AnomalyEvent, Camera, Verdict } from '../api/types';
import { useEventPages } from '../components/EventPages';
import { ReviewFilterForm } from '../components/ReviewFilterForm';
import { eventQuery, isNarrowed, type ReviewFilters, readFilters, writeFilters } from '../components/ReviewFilters';
import { eventSpan, ReviewTable } from '../components/ReviewTable';
import { errorText, putVerdict, verdictName } from '../components/VerdictApi';
import { formatScore } from '../format';
import { useApi, useKeys } from '../hooks';
import { useCurrentSession, useIsAdmin } from '../session';

/**
 * The landing page: what unusual happened last night. Filters in the URL,
 * events in keyset pages of 100 (Load more, or on scrolling near the end),
 * j/k/Enter to move and open, t/f to mark (admins).
 */
export function ReviewPage() {
  const session = useCurrentSession();
  const admin = useIsAdmin();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const search = params.toString();
  const filters = useMemo(() => readFilters(new URLSearchParams(search), session.timeZone), [search, session.timeZone]);
  const query = useMemo(() => eventQuery(filters), [filters]);
  const pages = useEventPages(query);
  const cameras = useApi<{ items: Camera[] }>('/v1/cameras');
  const cameraNames = useMemo(() => cameras.data?.items.map((c) => c.name) ?? [], [cameras.data]);

  const [selectedId, setSelectedId] = useState<number | undefined>();
  const [verdictError, setVerdictError] = useState<string | undefined>();
  const { items } = pages;
  const selectedIndex = Math.max(
    0,
    items.findIndex((e) => e.id === selectedId),
  );
  const selected: AnomalyEvent | undefined = items[selectedIndex];

  const setFilters = (next: ReviewFilters) => setParams(writeFilters(next));

  const select = useCallback((id: number) => setSelectedId(id), []);

  const mark = useCallback(
    (id: number, verdict: Verdict) => {
      const event = pages.items.find((e) => e.id === id);
      if (!event) return;
      const before = event.review;
      setSelectedId(id);
      setVerdictError(undefined);
      pages.update(id, (e) => ({
        ...e,
        review: { verdict, note: before?.note ?? null, reviewedBy: session.name, reviewedAt: new Date().toISOString() },
      }));
      putVerdict(id, verdict, before?.note ?? null).then(
        (review) => pages.update(id, (e) => ({ ...e, review })),
        (error: unknown) => {
          pages.update(id, (e) => ({ ...e, review: before }));
          setVerdictError(`Could not mark event ${id} as ${verdictName(verdict).toLowerCase()}: ${errorText(error)}`);
        },
      );
    },
    [pages.items, pages.update, session.name],
  );
  const markRef = useRef(mark);
  markRef.current = mark;
  const stableMark = useCallback((id: number, verdict: Verdict) => markRef.current(id, verdict), []);

  const move = (by: number) => {
    if (items.length === 0) return;
    const index = Math.min(items.length - 1, Math.max(0, selectedIndex + by));
    const next = items[index];
    if (next) setSelectedId(next.id);
    if (index >= items.length - 5) pages.loadMore();
  };

  useKeys((key, event) => {
    const onControl = event.target instanceof Element && event.target.closest('a, button, summary') !== null;
    if (key === 'j') move(1);
    else if (key === 'k') move(-1);
    else if (key === 'Enter' && selected && !onControl) navigate(`/events/${selected.id}`);
    else if ((key === 't' || key === 'f') && admin && selected) mark(selected.id, key === 't' ? 'true' : 'false');
    else return;
    event.preventDefault();
  });

  // Keep the selected row in view.
  useEffect(() => {
    if (selectedId === undefined) return;
    document.querySelector(`[data-event-id="${selectedId}"]`)?.scrollIntoView?.({ block: 'nearest' });
  }, [selectedId]);

  return (
    <section className="review">
      <h1>{title(filters)}</h1>
      <ReviewFilterForm key={search} filters={filters} cameras={cameraNames} onChange={setFilters} />
      <KeyLegend admin={admin} />
      {verdictError && (
        <p className="error" role="alert">
          {verdictError}
        </p>
      )}
      {pages.error && (
        <p className="error" role="alert">
          Could not load events: {pages.error}
        </p>
      )}
      <p className="visually-hidden" aria-live="polite">
        {selected
          ? `Selected event ${selected.id}: ${selected.label}, ${selected.camera ?? 'no camera'}, ${eventSpan(selected, session.timeZone)}, peak ${formatScore(selected.peakScore)}`
          : ''}
      </p>
      {pages.loaded && !pages.error && items.length === 0 ? (
        <NoEvents filters={filters} onShowAll={() => setFilters({ ...filters, preset: 'all', since: '', until: '' })} />
      ) : (
        <ReviewTable
          events={items}
          selectedId={selected?.id}
          timeZone={session.timeZone}
          admin={admin}
          onSelect={select}
          onVerdict={stableMark}
        />
      )}
      <MorePages
        count={items.length}
        hasMore={pages.hasMore}
        loading={pages.loading}
        loaded={pages.loaded}
        onMore={pages.loadMore}
      />
    </section>
  );
}

function title(filters: ReviewFilters): string {
  switch (filters.preset) {
    case 'last-night':
      return 'Events last night';
    case '7-nights':
      return 'Events of the last 7 nights';
    case 'all':
      return 'All events';
    default:
      return 'Events';
  }
}

function KeyLegend({ admin }: { admin: boolean }) {
  return (
    <p className="hint key-legend">
      Keys: <kbd className="kbd">j</kbd> / <kbd className="kbd">k</kbd> next / previous,{' '}
      <kbd className="kbd">Enter</kbd> open
      {admin && (
        <>
          , <kbd className="kbd">t</kbd> true alarm, <kbd className="kbd">f</kbd> false alarm
        </>
      )}
      .
    </p>
  );
}

function NoEvents({ filters, onShowAll }: { filters: ReviewFilters; onShowAll(): void }) {
  const span =
    filters.preset === 'last-night'
      ? 'No events last night'
      : filters.preset === '7-nights'
        ? 'No events in the last 7 nights'
        : 'No events';
  return (
    <div className="panel empty" data-testid="no-events">
      <p>
        {span}
        {isNarrowed(filters) ? ' match these filters' : ''}
        {filters.since || filters.until ? ` (${filters.since || 'start'} to ${filters.until || 'now'})` : ''}.
      </p>
      {filters.preset !== 'all' && (
        <button type="button" onClick={onShowAll}>
          Show all events
        </button>
      )}
    </div>
  );
}

interface MorePagesProps {
  count: number;
  hasMore: boolean;
  loading: boolean;
  loaded: boolean;
  onMore(): void;
}

/** "Load more", and the same on scrolling near the end (IntersectionObserver). */
function MorePages({ count, hasMore, loading, loaded, onMore }: MorePagesProps) {
  const sentinel = useRef<HTMLDivElement>(null);
  const moreRef = useRef(onMore);
  moreRef.current = onMore;

  // Observed again after each page: when the end is still in view, the next page comes too.
  // biome-ignore lint/correctness/useExhaustiveDependencies: count re-arms the observer after each page
  useEffect(() => {
    const element = sentinel.current;
    if (!element || !hasMore || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) moreRef.current();
      },
      { rootMargin: '0px 0px 400px 0px' },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [hasMore, count]);

  return (
    <div className="more-pages" ref={sentinel}>
      <p className="hint" aria-live="polite">
        {loading
          ? 'Loading events…'
          : loaded
            ? `${count} event${count === 1 ? '' : 's'}${hasMore ? ' shown, more to load' : ''}`
            : ''}
      </p>
      {hasMore && (
        <button type="button" onClick={onMore} disabled={loading}>
          Load more
        </button>
      )}
    </div>
  );
}
