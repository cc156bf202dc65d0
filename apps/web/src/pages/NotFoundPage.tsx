import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No such page. <Link to="/">Back to the review</Link>.
      </p>
    </section>
  );
}
