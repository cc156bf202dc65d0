import { type FormEvent, useId, useState } from 'react';
import { ApiError, apiSend } from '../api/client';

/** What POST /v1/videos/:id/rescore takes (rescoreBodySchema; every field optional: the configured default). */
export interface RescoreBody {
  promptSet?: unknown;
  aggregator?: string;
  mode?: string;
  head?: string;
  threshold?: number;
  smoothingClips?: number;
  minDurationMs?: number;
  mergeGapMs?: number;
}

const MODES = ['prompts', 'normality', 'fused', 'learned'] as const;
const AGGREGATORS = ['mean', 'attention', 'onnx'] as const;

/** The body of the form's fields: blank ones left out; an error text when one does not parse. */
export function rescoreBody(data: FormData): { body: RescoreBody } | { error: string } {
  const text = (name: string) => {
    const value = data.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
  const body: RescoreBody = {};
  if (text('mode')) body.mode = text('mode');
  if (text('head')) body.head = text('head');
  if (text('aggregator')) body.aggregator = text('aggregator');
  for (const name of ['threshold', 'smoothingClips', 'minDurationMs', 'mergeGapMs'] as const) {
    if (!text(name)) continue;
    const value = Number(text(name));
    if (!Number.isFinite(value)) return { error: `${name}: not a number` };
    body[name] = value;
  }
  if (text('promptSet')) {
    try {
      body.promptSet = JSON.parse(text('promptSet'));
    } catch {
      return { error: 'Prompt set: not valid JSON ({"name", "templates", "normal", "classes"})' };
    }
  }
  return { body };
}

/** Admins: score the video again from its stored embeddings, with other settings if asked. */
export function ScoreRescore({ videoId, onQueued }: { videoId: string; onQueued?: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [jobId, setJobId] = useState<string | undefined>();
  const ids = { mode: useId(), head: useId(), aggregator: useId(), threshold: useId(), promptSet: useId() };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const parsed = rescoreBody(new FormData(event.currentTarget));
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setBusy(true);
    setError(undefined);
    setJobId(undefined);
    apiSend<{ videoId: string; jobId: string }>('POST', `/v1/videos/${videoId}/rescore`, parsed.body).then(
      (answer) => {
        setJobId(answer.jobId);
        setBusy(false);
        onQueued?.();
      },
      (caught: unknown) => {
        setError(
          caught instanceof ApiError ? `${caught.field ? `${caught.field}: ` : ''}${caught.message}` : String(caught),
        );
        setBusy(false);
      },
    );
  };

  return (
    <form className="rescore" aria-labelledby="rescore-heading" onSubmit={submit}>
      <h2 id="rescore-heading">Rescore</h2>
      <p className="hint">Blank fields keep the configured settings.</p>
      <div className="filters">
        <label htmlFor={ids.mode}>
          Scoring mode
          <select id={ids.mode} name="mode" defaultValue="">
            <option value="">(configured)</option>
            {MODES.map((mode) => (
              <option key={mode} value={mode}>
                {mode}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={ids.head}>
          Learned head (mode learned)
          <input id={ids.head} name="head" type="text" size={14} />
        </label>
        <label htmlFor={ids.aggregator}>
          Aggregator
          <select id={ids.aggregator} name="aggregator" defaultValue="">
            <option value="">(configured)</option>
            {AGGREGATORS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={ids.threshold}>
          Event threshold
          <input id={ids.threshold} name="threshold" type="number" min={0.01} max={0.99} step={0.01} />
        </label>
      </div>
      <label htmlFor={ids.promptSet} className="field">
        Prompt set (JSON: name, templates, normal, classes)
      </label>
      <textarea
        id={ids.promptSet}
        name="promptSet"
        rows={3}
        spellCheck={false}
        placeholder='{"name": "yard", "templates": ["a CCTV frame of {}"], "normal": "normal", "classes": {…}}'
      />
      <p>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Queuing…' : 'Rescore'}
        </button>
      </p>
      <p className="hint" role="status" data-testid="rescore-status">
        {jobId ? `Rescore queued as job ${jobId}. The scores above change once it is done.` : ''}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
