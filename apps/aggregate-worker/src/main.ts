import { runRoleProcess } from '@vad/runtime';

runRoleProcess(['aggregate'], 'aggregate-worker');
