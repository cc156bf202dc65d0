import type { Query } from '../api/client';
import { localDate } from '../format';

/**
 * The review page's filters, held in the URL's search params (shareable, the
 * back button works). A night runs from noon to noon in the session's time zone.
 *
 *   ?preset=last-night|7-nights|all   (default last-night; relative to now)
 *   ?since=YYYY-MM-DDTHH:mm&until=…   (a custom span, wall-clock time of the zone; overrides preset)
 *   ?camera=&label=&minScore=&unreviewed=1&order=score|time (default score)
 */

export const PRESETS = [
  { id: 'last-night', name: 'Last night' },
  { id: '7-nights', name: 'Last 7 nights' },
  { id: 'all', name: 'All' },
] as const;

export type Preset = (typeof PRESETS)[number]['id'];
export type Order = 'score' | 'time';

export interface ReviewFilters {
  preset: Preset | 'custom';
  /** Wall-clock "YYYY-MM-DDTHH:mm" in the zone, or '' for open. */
  since: string;
  until: string;
  camera: string;
  label: string;
  minScore: string;
  unreviewed: boolean;
  order: Order;
}

export const PAGE_SIZE = 100;

/** "YYYY-MM-DD" plus days (calendar arithmetic, no time zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days)).toISOString().slice(0, 10);
}

/** The span of a preset: last night = yesterday 12:00 to today 12:00 in the zone. */
export function presetSpan(preset: Preset, timeZone: string, now: Date = new Date()): { since: string; until: string } {
  if (preset === 'all') return { since: '', until: '' };
  const today = localDate(now, timeZone);
  const nights = preset === '7-nights' ? 7 : 1;
  return { since: `${addDays(today, -nights)}T12:00`, until: `${today}T12:00` };
}

function isPreset(value: string | null): value is Preset {
  return PRESETS.some((p) => p.id === value);
}

export function readFilters(params: URLSearchParams, timeZone: string, now: Date = new Date()): ReviewFilters {
  const since = params.get('since') ?? '';
  const until = params.get('until') ?? '';
  const common = {
    camera: params.get('camera') ?? '',
    label: params.get('label') ?? '',
    minScore: params.get('minScore') ?? '',
    unreviewed: params.get('unreviewed') === '1',
    order: params.get('order') === 'time' ? 'time' : 'score',
  } as const;
  if (since || until) return { preset: 'custom', since, until, ...common };
  const asked = params.get('preset');
  const preset = isPreset(asked) ? asked : 'last-night';
  return { preset, ...presetSpan(preset, timeZone, now), ...common };
}

/** The search params of filters: only what differs from the defaults. */
export function writeFilters(filters: ReviewFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.preset === 'custom') {
    if (!filters.since && !filters.until) params.set('preset', 'all');
    if (filters.since) params.set('since', filters.since);
    if (filters.until) params.set('until', filters.until);
  } else if (filters.preset !== 'last-night') {
    params.set('preset', filters.preset);
  }
  if (filters.camera) params.set('camera', filters.camera);
  if (filters.label) params.set('label', filters.label);
  if (filters.minScore) params.set('minScore', filters.minScore);
  if (filters.unreviewed) params.set('unreviewed', '1');
  if (filters.order !== 'score') params.set('order', filters.order);
  return params;
}

/** The GET /v1/events query of filters (first page; the cursor is added per page). */
export function eventQuery(filters: ReviewFilters): Query {
  return {
    since: filters.since || undefined,
    until: filters.until || undefined,
    camera: filters.camera.trim() || undefined,
    label: filters.label.trim() || undefined,
    minScore: filters.minScore || undefined,
    verdict: filters.unreviewed ? 'unreviewed' : undefined,
    order: filters.order,
    limit: PAGE_SIZE,
  };
}

/** Whether the filters narrow anything beyond the time span. */
export function isNarrowed(filters: ReviewFilters): boolean {
  return Boolean(filters.camera || filters.label || filters.minScore || filters.unreviewed);
}
