import { type FormEvent, useEffect, useId, useState } from 'react';
import { ApiError, apiSend } from '../api/client';

const MIN_WEIGHT = 1;
const MAX_WEIGHT = 1000;

export interface CameraWeightFormProps {
  camera: string;
  weight: number;
  onSaved(): void;
}

/** Admins set a camera's weight (its share of processing, 100 = normal): PUT /v1/cameras/:name. */
export function CameraWeightForm({ camera, weight, onSaved }: CameraWeightFormProps) {
  const id = useId();
  const [value, setValue] = useState(String(weight));
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | undefined>();

  // A new weight from the API (after a save, or set elsewhere) replaces what is in the field.
  useEffect(() => setValue(String(weight)), [weight]);

  const parsed = Number(value);
  const valid = value.trim() !== '' && Number.isInteger(parsed) && parsed >= MIN_WEIGHT && parsed <= MAX_WEIGHT;

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!valid) return;
    setBusy(true);
    setNote(undefined);
    try {
      await apiSend<{ name: string; weight: number }>('PUT', `/v1/cameras/${encodeURIComponent(camera)}`, {
        weight: parsed,
      });
      setNote({ ok: true, text: 'saved' });
      onSaved();
    } catch (caught) {
      setNote({ ok: false, text: caught instanceof ApiError ? caught.message : 'the API cannot be reached' });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="weight-form" onSubmit={save}>
      <label htmlFor={id} className="visually-hidden">
        Weight of {camera}
      </label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={MIN_WEIGHT}
        max={MAX_WEIGHT}
        step={1}
        required
        value={value}
        aria-invalid={!valid}
        onChange={(event) => {
          setValue(event.target.value);
          setNote(undefined);
        }}
      />
      <button type="submit" disabled={busy || !valid || parsed === weight}>
        Save<span className="visually-hidden"> weight of {camera}</span>
      </button>
      <span role="status" className={note?.ok === false ? 'error' : 'hint'}>
        {note?.text}
      </span>
    </form>
  );
}
