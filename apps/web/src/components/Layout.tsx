import { NavLink, Outlet } from 'react-router';
import { useCurrentSession, useSession } from '../session';

const PAGES = [
  { to: '/', label: 'Review', end: true },
  { to: '/cameras', label: 'Cameras' },
  { to: '/queues', label: 'Queues' },
  { to: '/upload', label: 'Upload', admin: true },
] as const;

/** The frame of every page once logged in: navigation, who is logged in, logout. */
export function Layout() {
  const session = useCurrentSession();
  const { logout } = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">vad</span>
        <nav aria-label="Pages">
          {PAGES.filter((page) => !('admin' in page) || session.scope === 'admin').map((page) => (
            <NavLink key={page.to} to={page.to} end={'end' in page}>
              {page.label}
            </NavLink>
          ))}
        </nav>
        <span className="who">
          {session.name} <span className="scope">({session.scope})</span>
        </span>
        <button type="button" className="link" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main id="main">
        <Outlet />
      </main>
    </>
  );
}
