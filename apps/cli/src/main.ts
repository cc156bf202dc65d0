import { createLogger, loadConfigOrExit } from '@vad/config';
import { EXIT_UNAVAILABLE, type ResolvedServices, resolveServices, ServiceUnavailableError } from '@vad/runtime';
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
let services: ResolvedServices | undefined;
const getContext = () => {
  context ??= new CliContext({
    utc: program.opts<{ utc?: boolean }>().utc,
    config: services?.config,
    release: async () => services?.release(),
  });
  return context;
};

/** Commands that touch neither PostgreSQL nor the queues. */
const OFFLINE_COMMANDS = new Set(['tokens', 'models', 'classify', 'help']);
/** Commands that only read or write PostgreSQL (a missing Redis does not stop them). */
const DATABASE_ONLY_COMMANDS = new Set(['db', 'results', 'events', 'search', 'caption', 'eval', 'train', 'cameras']);
/** Long-running commands: they wait for a service that does not answer yet instead of stopping. */
const SERVING_COMMANDS = new Set(['workers', 'api', 'watch']);

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
  .hook('preAction', async (_program, action) => {
    let command = action;
    while (command.parent && command.parent !== program) command = command.parent;
    const name = command.name();
    if (OFFLINE_COMMANDS.has(name)) return;
    const config = loadConfigOrExit();
    const logger = createLogger({ log: { level: process.env.VAD_LOG_LEVEL ? config.log.level : 'warn' } }, 'cli', 2);
    services = await resolveServices(config, {
      logger,
      unreachable: name === 'doctor' ? 'skip' : SERVING_COMMANDS.has(name) ? 'wait' : 'fail',
      queues: !DATABASE_ONLY_COMMANDS.has(name),
    });
    // Said once, where it is news: the embedded server, or queues in PostgreSQL.
    if (services.embedded || services.config.queue.backend === 'postgres')
      process.stderr.write(`${services.summary}\n`);
  })
  .hook('postAction', async () => {
    await context?.close();
    await services?.release();
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
  await services?.release();
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = error instanceof ServiceUnavailableError ? EXIT_UNAVAILABLE : 1;
}
