import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, apiUpload } from '../api/client';
import type { ApiErrorBody, SubmitResult } from '../api/types';

/** What goes with a file: the fields of POST /v1/videos (recordedAt without offset: the API's time zone). */
export interface UploadSettings {
  camera: string;
  /** "2026-11-29T22:00" from a datetime-local input, or '' for none. */
  recordedAt: string;
  urgent: boolean;
}

export type UploadState = 'waiting' | 'uploading' | 'queued' | 'duplicate' | 'rejected' | 'failed' | 'cancelled';

export interface UploadItem {
  id: number;
  file: File;
  settings: UploadSettings;
  state: UploadState;
  loaded: number;
  total: number;
  /** The video, when the API answered with one (queued, duplicate, or recorded but not queued). */
  videoId?: string;
  /** The API's message (rejected, failed). */
  message?: string;
}

/** The multipart body: the fields first, the file part last (the API streams it to storage as it comes). */
export function uploadForm(file: File, settings: UploadSettings): FormData {
  const form = new FormData();
  const camera = settings.camera.trim();
  if (camera) form.append('camera', camera);
  if (settings.recordedAt) form.append('recordedAt', settings.recordedAt);
  if (settings.urgent) form.append('urgent', 'true');
  form.append('file', file, file.name);
  return form;
}

type Answer = Pick<UploadItem, 'state' | 'videoId' | 'message'>;

/** 201: queued; 200 (created false): the same content was uploaded before; 4xx: rejected; else failed. */
export function answerOf(status: number, body: unknown): Answer {
  if (status === 200 || status === 201) {
    const result = body as SubmitResult;
    return { state: result.created ? 'queued' : 'duplicate', videoId: result.videoId };
  }
  const error = (body ?? {}) as Partial<ApiErrorBody> & { videoId?: string };
  const message = error.message || `the API answered ${status}`;
  if (status >= 400 && status < 500) return { state: 'rejected', message };
  return { state: 'failed', message, ...(error.videoId ? { videoId: error.videoId } : {}) };
}

export const isFinished = (item: UploadItem) => item.state !== 'waiting' && item.state !== 'uploading';

/**
 * Files uploaded one after another: add() queues them with the settings of
 * the moment, the next starts when the one before has its answer; cancel()
 * aborts the one under way or drops a waiting one. Leaving the page cancels.
 */
export function useUploadQueue() {
  const [items, setItems] = useState<UploadItem[]>([]);
  const nextId = useRef(1);
  const running = useRef<{ id: number; abort: () => void } | undefined>(undefined);

  const update = useCallback((id: number, change: Partial<UploadItem>) => {
    setItems((list) => list.map((item) => (item.id === id ? { ...item, ...change } : item)));
  }, []);

  useEffect(() => {
    if (running.current) return;
    const next = items.find((item) => item.state === 'waiting');
    if (!next) return;
    const upload = apiUpload<unknown>('/v1/videos', uploadForm(next.file, next.settings), (loaded, total) =>
      update(next.id, { loaded, total: total || next.file.size }),
    );
    running.current = { id: next.id, abort: upload.abort };
    update(next.id, { state: 'uploading', loaded: 0, total: next.file.size });
    upload.done
      .then(
        ({ status, body }) => update(next.id, answerOf(status, body)),
        (caught: unknown) => {
          const message = caught instanceof ApiError ? caught.message : String(caught);
          update(next.id, { state: message.includes('cancelled') ? 'cancelled' : 'failed', message });
        },
      )
      .finally(() => {
        running.current = undefined;
        // Wake the effect for the next file even if the answer left the list as it was.
        setItems((list) => [...list]);
      });
  }, [items, update]);

  // Leaving the page aborts the upload under way (the rest never starts).
  useEffect(() => () => running.current?.abort(), []);

  const add = useCallback((files: Iterable<File>, settings: UploadSettings) => {
    const added: UploadItem[] = [];
    for (const file of files) {
      added.push({ id: nextId.current++, file, settings, state: 'waiting', loaded: 0, total: file.size });
    }
    if (added.length) setItems((list) => [...list, ...added]);
  }, []);

  const cancel = useCallback(
    (id: number) => {
      if (running.current?.id === id) running.current.abort();
      else update(id, { state: 'cancelled', message: 'the upload was cancelled' });
    },
    [update],
  );

  const clearFinished = useCallback(() => setItems((list) => list.filter((item) => !isFinished(item))), []);

  return { items, add, cancel, clearFinished };
}
