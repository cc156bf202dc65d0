import { useState } from 'react';
import type { Camera } from '../api/types';
import { UploadDropzone } from '../components/UploadDropzone';
import { UploadItemRow } from '../components/UploadItemRow';
import { isFinished, type UploadSettings, useUploadQueue } from '../components/UploadQueue';
import { UploadSettingsFields } from '../components/UploadSettingsFields';
import { useApi } from '../hooks';
import { useCurrentSession } from '../session';

/** Upload videos (admins): queued one after another, each with its progress and the API's answer. */
export function UploadPage() {
  const session = useCurrentSession();
  if (session.scope !== 'admin') {
    return (
      <>
        <h1>Upload</h1>
        <p data-testid="upload-needs-admin">
          Uploading needs an admin token: you are logged in as {session.name} with a {session.scope} token.
        </p>
      </>
    );
  }
  return <Uploader timeZone={session.timeZone} />;
}

function Uploader({ timeZone }: { timeZone: string }) {
  const cameras = useApi<{ items: Camera[] }>('/v1/cameras');
  const [settings, setSettings] = useState<UploadSettings>({ camera: '', recordedAt: '', urgent: false });
  const { items, add, cancel, clearFinished } = useUploadQueue();
  const done = items.filter(isFinished).length;

  return (
    <>
      <h1>Upload</h1>
      <p className="hint">
        Files are uploaded one after another with the settings below as they were when the file was added. The same
        content uploaded again is a duplicate of the earlier video. Leaving this page cancels the uploads not yet done.
      </p>
      <UploadSettingsFields
        value={settings}
        onChange={setSettings}
        cameras={cameras.data?.items ?? []}
        timeZone={timeZone}
      />
      <UploadDropzone onFiles={(files) => add(files, settings)} />
      <section aria-labelledby="upload-list-title">
        <h2 id="upload-list-title">Uploads</h2>
        {items.length === 0 ? (
          <p className="hint">No files yet.</p>
        ) : (
          <>
            <p className="hint" role="status">
              {done} of {items.length} done.
            </p>
            <ul className="upload-list">
              {items.map((item) => (
                <UploadItemRow key={item.id} item={item} onCancel={cancel} />
              ))}
            </ul>
            {done > 0 && (
              <button type="button" className="clear-finished" onClick={clearFinished}>
                Clear finished
              </button>
            )}
          </>
        )}
      </section>
    </>
  );
}
