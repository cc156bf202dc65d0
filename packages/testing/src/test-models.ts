import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel } from '@vad/models';

/** Builds vad's tiny synthetic test model into `<modelDir>/vad-test-tiny` unless it is there (milliseconds). */
export async function ensureTinyModel(modelDir: string): Promise<string> {
  const folder = join(modelDir, 'vad-test-tiny');
  if (!existsSync(join(folder, 'tokenizer_config.json'))) await buildModel('vad-test-tiny', modelDir);
  return folder;
}
