import { type FormEvent, useState } from 'react';
import { ApiError } from '../api/client';
import { useSession } from '../session';

/** Exchanges an API token (vad tokens create) for a session cookie. */
export function LoginPage() {
  const { login } = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await login(token.trim());
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : 'the API cannot be reached');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="login">
      <h1>vad review</h1>
      <form onSubmit={submit} aria-describedby="login-help">
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <p id="login-help" className="hint">
          A token from <code>vad tokens create NAME --scope read|admin</code>. It stays on the server: the browser keeps
          only a session cookie.
        </p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
