import { type FormEvent, useRef } from 'react';
import { PRESETS, type Preset, type ReviewFilters } from './ReviewFilters';

interface ReviewFilterFormProps {
  filters: ReviewFilters;
  /** Camera names to suggest. */
  cameras: readonly string[];
  onChange(next: ReviewFilters): void;
}

/**
 * The filters of the review page. Text fields apply on Enter or "Apply";
 * presets, order and "Unreviewed only" at once. Uncontrolled: remounted (by
 * key) whenever the URL's filters change, so the back button resets it.
 */
export function ReviewFilterForm({ filters, cameras, onChange }: ReviewFilterFormProps) {
  const form = useRef<HTMLFormElement>(null);

  const read = (): ReviewFilters => {
    const data = new FormData(form.current ?? undefined);
    const text = (name: string) => {
      const value = data.get(name);
      return typeof value === 'string' ? value.trim() : '';
    };
    const since = text('since');
    const until = text('until');
    const sameSpan = since === filters.since && until === filters.until;
    return {
      preset: sameSpan ? filters.preset : 'custom',
      since,
      until,
      camera: text('camera'),
      label: text('label'),
      minScore: text('minScore'),
      unreviewed: data.get('unreviewed') === 'on',
      order: text('order') === 'time' ? 'time' : 'score',
    };
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onChange(read());
  };

  const choosePreset = (preset: Preset) => onChange({ ...read(), preset, since: '', until: '' });
  const applyNow = () => form.current?.requestSubmit();

  return (
    <form ref={form} className="filters" aria-label="Event filters" onSubmit={submit}>
      <fieldset className="presets">
        <legend>Nights (noon to noon)</legend>
        {PRESETS.map((preset) => (
          <button
            key={preset.id}
            type="button"
            aria-pressed={filters.preset === preset.id}
            onClick={() => choosePreset(preset.id)}
          >
            {preset.name}
          </button>
        ))}
      </fieldset>
      <label>
        Since
        <input type="datetime-local" name="since" defaultValue={filters.since} />
      </label>
      <label>
        Until
        <input type="datetime-local" name="until" defaultValue={filters.until} />
      </label>
      <label>
        Camera
        <input type="text" name="camera" list="review-camera-names" defaultValue={filters.camera} size={14} />
      </label>
      <datalist id="review-camera-names">
        {cameras.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <label>
        Label
        <input type="text" name="label" defaultValue={filters.label} size={12} />
      </label>
      <label>
        Min score
        <input type="number" name="minScore" min={0} max={1} step={0.05} defaultValue={filters.minScore} />
      </label>
      <label>
        Order by
        <select name="order" defaultValue={filters.order} onChange={applyNow}>
          <option value="score">Peak score</option>
          <option value="time">Time (newest first)</option>
        </select>
      </label>
      <label className="inline">
        <input type="checkbox" name="unreviewed" defaultChecked={filters.unreviewed} onChange={applyNow} />
        Unreviewed only
      </label>
      <button type="submit" className="primary">
        Apply
      </button>
    </form>
  );
}
