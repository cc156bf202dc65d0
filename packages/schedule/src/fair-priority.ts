/** BullMQ priorities: 1 is the most urgent, 2^21 the least. */
export const URGENT_PRIORITY = 1;
export const MAX_PRIORITY = 2_097_152;
export const DEFAULT_CAMERA_WEIGHT = 100;

/**
 * Fair share between cameras. Each upload's priority grows with the number
 * of its camera's uploads already waiting, scaled by the camera's weight: a
 * camera that queued a hundred videos gets priorities 2, 3, …, 101, so
 * another camera's single video (priority 2) runs after the first of them,
 * not after all hundred. A camera of weight 200 advances twice as fast as one
 * of weight 100. Priority 1 is kept for urgent uploads.
 */
export function fairPriority(waitingOfCamera: number, weight = DEFAULT_CAMERA_WEIGHT): number {
  const step = DEFAULT_CAMERA_WEIGHT / Math.max(1, weight);
  return Math.min(MAX_PRIORITY, 2 + Math.floor(waitingOfCamera * step));
}
