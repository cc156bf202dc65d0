import { createBrowserRouter, RouterProvider } from 'react-router';
import { Layout } from './components/Layout';
import { CamerasPage } from './pages/CamerasPage';
import { EventPage } from './pages/EventPage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { QueuesPage } from './pages/QueuesPage';
import { ReviewPage } from './pages/ReviewPage';
import { UploadPage } from './pages/UploadPage';
import { VideoPage } from './pages/VideoPage';
import { useSession } from './session';

const router = createBrowserRouter([
  {
    path: '/',
    element: <Layout />,
    children: [
      { index: true, element: <ReviewPage /> },
      { path: 'events/:id', element: <EventPage /> },
      { path: 'videos/:id', element: <VideoPage /> },
      { path: 'cameras', element: <CamerasPage /> },
      { path: 'queues', element: <QueuesPage /> },
      { path: 'upload', element: <UploadPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);

/** Login until there is a session; then the pages. */
export function App() {
  const { session } = useSession();
  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) return <LoginPage />;
  return <RouterProvider router={router} />;
}
