import type { Clip } from '../api/types';
import { formatOffset } from '../format';

/** The class probabilities of a clip as a bar list, highest first (value in words too). */
export function EventProbabilities({ clip }: { clip: Clip | undefined }) {
  if (!clip) return <p className="hint">No clip scores at the peak.</p>;
  const entries = Object.entries(clip.probabilities).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return <p className="hint">This clip has no class probabilities.</p>;
  return (
    <>
      <p className="hint">
        Clip {formatOffset(clip.startMs)}–{formatOffset(clip.endMs)}, labelled {clip.label}.
      </p>
      <ul className="probabilities" data-testid="event-probabilities">
        {entries.map(([name, p]) => {
          const percent = Math.max(0, Math.min(100, p * 100));
          return (
            <li key={name}>
              <span className="name">{name}</span>
              <span className="bar" aria-hidden="true">
                <span style={{ width: `${percent}%` }} />
              </span>
              <span className="value">{percent.toFixed(1)} %</span>
            </li>
          );
        })}
      </ul>
    </>
  );
}
