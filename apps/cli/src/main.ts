import { Command } from 'commander';
import { registerApi } from './commands/api.js';
import { registerCameras } from './commands/cameras.js';
import { registerCaption } from './commands/caption.js';
import { registerClassify } from './commands/classify.js';
import { registerDb } from './commands/db.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEval } from './commands/eval.js';
import { registerEvents } from './commands/events.js';
import { registerModels } from './commands/models.js';
import { registerQueues } from './commands/queues.js';
import { registerRescore } from './commands/rescore.js';
import { registerResults } from './commands/results.js';
import { registerSearch } from './commands/search.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerTokens } from './commands/tokens.js';
import { registerTrain } from './commands/train.js';
import { registerWatch } from './commands/watch.js';
import { registerWorkers } from './commands/workers.js';
import { CliContext } from './context.js';

let context: CliContext | undefined;
const getContext = () => {
  context ??= new CliContext({ utc: program.opts<{ utc?: boolean }>().utc });
  return context;
};

const program = new Command()
  .name('vad')
  .description('Video anomaly detection for surveillance footage')
  .showHelpAfterError('(add --help for usage)')
  .option('--utc', 'print times in UTC instead of VAD_TIMEZONE (times typed without an offset are still VAD_TIMEZONE)')
  .addHelpText(
    'after',
    '\nTimes: a time typed without an offset (2026-11-30T08:00, or a date 2026-11-30 for midnight) is in VAD_TIMEZONE;\n' +
      'with one (2026-11-30T08:00:00+01:00, ...Z) it is taken as is. Times are printed in VAD_TIMEZONE with the offset.',
  )
  .hook('postAction', async () => {
    await context?.close();
  });

registerSubmit(program, getContext);
registerStatus(program, getContext);
registerDb(program, getContext);
registerModels(program, getContext);
registerClassify(program, getContext);
registerResults(program, getContext);
registerWorkers(program, getContext);
registerDemo(program, getContext);
registerEvents(program, getContext);
registerSearch(program, getContext);
registerCaption(program, getContext);
registerEval(program, getContext);
registerRescore(program, getContext);
registerTrain(program, getContext);
registerQueues(program, getContext);
registerDoctor(program, getContext);
registerCameras(program, getContext);
registerWatch(program, getContext);
registerTokens(program);
registerApi(program, getContext);

try {
  await program.parseAsync();
} catch (error) {
  await context?.close().catch(() => {});
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 1;
}
