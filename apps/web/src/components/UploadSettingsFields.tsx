import type { Camera } from '../api/types';
import type { UploadSettings } from './UploadQueue';

export interface UploadSettingsFieldsProps {
  value: UploadSettings;
  onChange(value: UploadSettings): void;
  cameras: Camera[];
  timeZone: string;
}

/** Camera, recording start (wall clock in the API's zone) and urgency: applied to the files added next. */
export function UploadSettingsFields({ value, onChange, cameras, timeZone }: UploadSettingsFieldsProps) {
  return (
    <fieldset className="upload-form panel">
      <legend>For the files added next</legend>
      <div className="field">
        <label htmlFor="upload-camera">Camera</label>
        <input
          id="upload-camera"
          list="upload-camera-names"
          autoComplete="off"
          maxLength={200}
          value={value.camera}
          onChange={(event) => onChange({ ...value, camera: event.target.value })}
        />
        <datalist id="upload-camera-names">
          {cameras.map((camera) => (
            <option key={camera.name} value={camera.name} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor="upload-recorded-at">Recording started ({timeZone})</label>
        <input
          id="upload-recorded-at"
          type="datetime-local"
          aria-describedby="upload-recorded-at-hint"
          value={value.recordedAt}
          onChange={(event) => onChange({ ...value, recordedAt: event.target.value })}
        />
        <span id="upload-recorded-at-hint" className="hint">
          Wall-clock time in {timeZone}, the cameras' zone; empty: unknown.
        </span>
      </div>
      <div className="field">
        <label htmlFor="upload-urgent">
          <input
            id="upload-urgent"
            type="checkbox"
            checked={value.urgent}
            onChange={(event) => onChange({ ...value, urgent: event.target.checked })}
          />{' '}
          Urgent
        </label>
        <span className="hint">Process at once, also while the processing window is closed.</span>
      </div>
    </fieldset>
  );
}
