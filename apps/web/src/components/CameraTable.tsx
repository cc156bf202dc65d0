import type { Camera } from '../api/types';
import { CameraLink } from './CameraLink';
import { CameraWeightForm } from './CameraWeightForm';

export interface CameraTableProps {
  cameras: Camera[];
  isAdmin: boolean;
  onSaved(): void;
}

function threshold(camera: Camera): string {
  return camera.threshold === null ? 'configured' : String(Number(camera.threshold.toPrecision(3)));
}

/** Per camera: its weight (editable by admins), threshold and scoring mode, and its videos by state. */
export function CameraTable({ cameras, isAdmin, onSaved }: CameraTableProps) {
  if (cameras.length === 0) return <p className="hint">No cameras yet: they appear with their first video.</p>;
  return (
    <div className="table-scroll">
      <table aria-labelledby="cameras-processing-title">
        <thead>
          <tr>
            <th scope="col">Camera</th>
            <th scope="col">Weight</th>
            <th scope="col" className="num">
              Threshold
            </th>
            <th scope="col">Scoring mode</th>
            <th scope="col" className="num">
              Waiting
            </th>
            <th scope="col" className="num">
              Processing
            </th>
            <th scope="col" className="num">
              Done
            </th>
            <th scope="col" className="num">
              Failed
            </th>
          </tr>
        </thead>
        <tbody>
          {cameras.map((camera) => (
            <tr key={camera.name} data-testid={`camera-${camera.name}`}>
              <th scope="row">
                <CameraLink camera={camera.name} />
              </th>
              <td data-testid="weight">
                {isAdmin ? (
                  <CameraWeightForm camera={camera.name} weight={camera.weight} onSaved={onSaved} />
                ) : (
                  camera.weight
                )}
              </td>
              <td className="num">{threshold(camera)}</td>
              <td>{camera.scoringMode ?? 'configured'}</td>
              <td className="num">{camera.waiting}</td>
              <td className="num">{camera.processing}</td>
              <td className="num">{camera.done}</td>
              <td className={camera.failed > 0 ? 'num error' : 'num'}>{camera.failed}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
