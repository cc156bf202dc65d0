import { Link } from 'react-router';

/** A page whose data could not be loaded: what, why, and the way back to the review. */
export function LoadFailed({ title, what, error }: { title: string; what: string; error: string }) {
  return (
    <section>
      <h1>{title}</h1>
      <p className="error" role="alert">
        Could not load {what}: {error}
      </p>
      <p>
        <Link to="/">Back to the review</Link>
      </p>
    </section>
  );
}
