import { ApiError, apiSend } from '../api/client';
import type { ReviewSummary, Verdict } from '../api/types';

/** PUT /v1/events/:id/review (admin): the verdict and note as stored. Reviewing again replaces the note. */
export async function putVerdict(eventId: number, verdict: Verdict, note: string | null): Promise<ReviewSummary> {
  const body: { verdict: Verdict; note?: string } = { verdict };
  if (note?.trim()) body.note = note;
  const review = await apiSend<ReviewSummary>('PUT', `/v1/events/${eventId}/review`, body);
  return { verdict: review.verdict, note: review.note, reviewedBy: review.reviewedBy, reviewedAt: review.reviewedAt };
}

/** DELETE /v1/events/:id/review (admin). */
export async function clearVerdict(eventId: number): Promise<void> {
  await apiSend<unknown>('DELETE', `/v1/events/${eventId}/review`);
}

export function verdictName(verdict: Verdict): string {
  return verdict === 'true' ? 'True alarm' : 'False alarm';
}

export function errorText(error: unknown): string {
  return error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
}
