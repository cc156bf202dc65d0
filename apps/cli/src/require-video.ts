import type { Video } from '@vad/db';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from './context.js';

/** The video with this id, or a clear error: exit 2 for a malformed id, 1 for an unknown one. */
export async function requireVideo(program: Command, ctx: CliContext, id: string): Promise<Video> {
  if (!z.uuid().safeParse(id).success) program.error(`error: "${id}" is not a video id (a UUID)`, { exitCode: 2 });
  const video = await ctx.repos.videos.get(id);
  if (!video) program.error(`error: no video with id ${id}`, { exitCode: 1 });
  return video;
}
