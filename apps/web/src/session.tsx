import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, apiGet, apiSend, configureClient } from './api/client';
import type { Session } from './api/types';

interface SessionState {
  /** undefined while loading, null when logged out. */
  session: Session | null | undefined;
  login(token: string): Promise<void>;
  logout(): Promise<void>;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

/**
 * The logged-in user: GET /v1/session at start (the httpOnly cookie is not
 * readable from script), POST to log in with a token, DELETE to log out.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  const adopt = useCallback((next: Session | null) => {
    configureClient({ csrfToken: next?.csrfToken, onUnauthorized: () => setSession(null) });
    setSession(next);
  }, []);

  useEffect(() => {
    apiGet<Session>('/v1/session').then(adopt, (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) adopt(null);
      else adopt(null);
    });
  }, [adopt]);

  const value = useMemo<SessionState>(
    () => ({
      session,
      async login(token: string) {
        adopt(await apiSend<Session>('POST', '/v1/session', { token }));
      },
      async logout() {
        await apiSend<undefined>('DELETE', '/v1/session').catch(() => undefined);
        adopt(null);
      },
    }),
    [session, adopt],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}

/** The logged-in session (pages under the layout render only with one). */
export function useCurrentSession(): Session {
  const { session } = useSession();
  if (!session) throw new Error('no session');
  return session;
}

export function useIsAdmin(): boolean {
  return useSession().session?.scope === 'admin';
}
