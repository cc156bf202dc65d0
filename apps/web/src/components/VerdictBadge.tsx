import type { ReviewSummary } from '../api/types';
import { verdictName } from './VerdictApi';

/** An event's verdict as a badge with words (colour only repeats them): True alarm / False alarm / Unreviewed. */
export function VerdictBadge({ review }: { review: ReviewSummary | null }) {
  if (!review) return <span className="badge">Unreviewed</span>;
  return (
    <span className={`badge ${review.verdict}`} data-verdict={review.verdict}>
      {verdictName(review.verdict)}
    </span>
  );
}
