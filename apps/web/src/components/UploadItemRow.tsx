import { useId } from 'react';
import { Link } from 'react-router';
import { formatBytes } from '../format';
import type { UploadItem } from './UploadQueue';

function VideoLink({ id, children }: { id: string; children: string }) {
  return (
    <Link to={`/videos/${id}`}>
      {children} <code>{id.slice(0, 8)}</code>
    </Link>
  );
}

/** What the API answered about a file (or where it stands). */
function Answer({ item }: { item: UploadItem }) {
  switch (item.state) {
    case 'waiting':
      return <span className="hint">waiting for the uploads before it</span>;
    case 'uploading':
      return (
        <span className="hint">
          {item.total > 0 && item.loaded >= item.total ? 'uploaded, the API is checking the video…' : 'uploading…'}
        </span>
      );
    case 'queued':
      return <span className="ok">queued: {item.videoId && <VideoLink id={item.videoId}>video</VideoLink>}</span>;
    case 'duplicate':
      return (
        <span>duplicate of an earlier upload: {item.videoId && <VideoLink id={item.videoId}>video</VideoLink>}</span>
      );
    case 'rejected':
      return <span className="error">rejected: {item.message}</span>;
    case 'failed':
      return (
        <span className="error">
          failed: {item.message}
          {item.videoId && (
            <>
              {' '}
              (recorded as <VideoLink id={item.videoId}>video</VideoLink>)
            </>
          )}
        </span>
      );
    case 'cancelled':
      return <span className="hint">cancelled</span>;
  }
}

function settingsText(item: UploadItem): string {
  const { camera, recordedAt, urgent } = item.settings;
  const parts = [
    formatBytes(item.file.size),
    camera.trim() ? `camera ${camera.trim()}` : 'no camera',
    recordedAt ? `started ${recordedAt.replace('T', ' ')}` : 'start unknown',
  ];
  if (urgent) parts.push('urgent');
  return parts.join(' · ');
}

/** One file of the upload queue: its settings, progress bar, answer, and a cancel button while not done. */
export function UploadItemRow({ item, onCancel }: { item: UploadItem; onCancel(id: number): void }) {
  const progressId = useId();
  const percent = item.total > 0 ? Math.round((item.loaded / item.total) * 100) : 0;
  const active = item.state === 'waiting' || item.state === 'uploading';
  return (
    <li className="panel upload-item" data-testid="upload-item" data-state={item.state}>
      <div>
        <div className="file">{item.file.name}</div>
        <div className="meta">{settingsText(item)}</div>
      </div>
      {active ? (
        <button type="button" onClick={() => onCancel(item.id)}>
          Cancel<span className="visually-hidden"> upload of {item.file.name}</span>
        </button>
      ) : (
        <span />
      )}
      {item.state === 'uploading' && (
        <div className="progress-line">
          <label htmlFor={progressId} className="visually-hidden">
            Upload of {item.file.name}
          </label>
          <progress id={progressId} max={item.total || 1} value={item.loaded} />
          <span aria-hidden="true">{percent} %</span>
        </div>
      )}
      <p className="answer" data-testid="upload-answer">
        <Answer item={item} />
      </p>
    </li>
  );
}
