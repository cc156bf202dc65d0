import { Link } from 'react-router';

/** The review page filtered by a camera, every event (preset=all). */
export function cameraReviewHref(camera: string): string {
  return `/?${new URLSearchParams({ camera, preset: 'all' }).toString()}`;
}

/** A camera's name, linking to its events on the review page. */
export function CameraLink({ camera }: { camera: string }) {
  return <Link to={cameraReviewHref(camera)}>{camera}</Link>;
}
