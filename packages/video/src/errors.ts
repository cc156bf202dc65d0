/**
 * The input is not a usable video (no video stream, corrupt, empty…). Retrying
 * cannot help: the job fails at once and the message is shown to the user.
 */
export class InvalidVideoError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidVideoError';
  }
}

/** ffmpeg stopped with an error while decoding; `stderr` holds its last meaningful lines. */
export class DecodeError extends Error {
  constructor(
    message: string,
    readonly stderr: string[],
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}
