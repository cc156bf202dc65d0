import { useSearchParams } from 'react-router';
import type { Camera, CameraNights } from '../api/types';
import { CameraNightsTable } from '../components/CameraNightsTable';
import { CameraTable } from '../components/CameraTable';
import { useApi } from '../hooks';
import { useIsAdmin } from '../session';

const NIGHT_CHOICES = [7, 14, 30] as const;
const DEFAULT_NIGHTS = 14;

function nightsFrom(params: URLSearchParams): number {
  const value = Number(params.get('nights'));
  return NIGHT_CHOICES.some((choice) => choice === value) ? value : DEFAULT_NIGHTS;
}

/** Cameras: weight, threshold, videos by state, and their events per night with the false-alarm share. */
export function CamerasPage() {
  const isAdmin = useIsAdmin();
  const [params, setParams] = useSearchParams();
  const nights = nightsFrom(params);
  const cameras = useApi<{ items: Camera[] }>('/v1/cameras');
  const perNight = useApi<CameraNights>('/v1/cameras/nights', { nights });

  return (
    <>
      <h1>Cameras</h1>
      <section className="panel page-section" aria-labelledby="cameras-processing-title">
        <h2 id="cameras-processing-title">Processing</h2>
        <p className="hint">
          Weight: a camera's share of processing against the others (100 = normal, 1–1000); it applies to videos
          submitted from then on. Threshold and scoring mode: as calibrated for the camera, else the configured ones.
        </p>
        {cameras.error && (
          <p role="alert" className="error">
            {cameras.error}
          </p>
        )}
        {cameras.data ? (
          <CameraTable cameras={cameras.data.items} isAdmin={isAdmin} onSaved={cameras.reload} />
        ) : (
          !cameras.error && <p className="loading">Loading…</p>
        )}
      </section>
      <section className="panel page-section" aria-labelledby="cameras-nights-title">
        <h2 id="cameras-nights-title">Events per night</h2>
        <div className="filters">
          <label>
            Nights
            <select
              value={nights}
              onChange={(event) => {
                const next = new URLSearchParams(params);
                next.set('nights', event.target.value);
                setParams(next, { replace: true });
              }}
            >
              {NIGHT_CHOICES.map((choice) => (
                <option key={choice} value={choice}>
                  last {choice} nights
                </option>
              ))}
            </select>
          </label>
        </div>
        <p className="hint">
          A night runs from noon to noon{perNight.data ? ` in ${perNight.data.timeZone}` : ''} and is named by its
          evening. The count of events is printed in each cell; a stronger colour repeats a higher count. False alarms:
          the share of reviewed events reviewed as false alarms.
        </p>
        {perNight.error && (
          <p role="alert" className="error">
            {perNight.error}
          </p>
        )}
        {perNight.data ? (
          <CameraNightsTable data={perNight.data} />
        ) : (
          !perNight.error && <p className="loading">Loading…</p>
        )}
      </section>
    </>
  );
}
