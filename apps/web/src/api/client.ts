/**
 * The API client of the review app: same origin as /v1, authenticated by the
 * session cookie; state-changing requests carry the session's CSRF token.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;
let onUnauthorized: (() => void) | undefined;

/** Set by the session: the CSRF token sent with every state-changing request, and what a 401 does. */
export function configureClient(options: { csrfToken?: string; onUnauthorized?: () => void }): void {
  csrfToken = options.csrfToken;
  if (options.onUnauthorized) onUnauthorized = options.onUnauthorized;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function answer<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    if (response.status === 401) onUnauthorized?.();
    const error = body as { message?: string; field?: string } | undefined;
    throw new ApiError(response.status, error?.message ?? response.statusText, error?.field);
  }
  return body as T;
}

export async function apiGet<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  const response = await fetch(withQuery(path, query), {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    signal: signal ?? null,
  });
  return answer<T>(response);
}

export async function apiSend<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers,
    body: body === undefined ? null : JSON.stringify(body),
  });
  return answer<T>(response);
}

/** A multipart upload with progress (fetch has no upload progress): resolves with status and body. */
export function apiUpload<T>(
  path: string,
  form: FormData,
  onProgress: (loaded: number, total: number) => void,
): { done: Promise<{ status: number; body: T }>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<{ status: number; body: T }>((resolve, reject) => {
    xhr.open('POST', path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('x-csrf-token', csrfToken);
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : 0);
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = { message: xhr.statusText };
      }
      if (xhr.status === 401) onUnauthorized?.();
      resolve({ status: xhr.status, body: body as T });
    };
    xhr.onerror = () => reject(new ApiError(0, 'the upload was interrupted (network error)'));
    xhr.onabort = () => reject(new ApiError(0, 'the upload was cancelled'));
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
