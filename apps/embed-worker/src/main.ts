import { runRoleProcess } from '@vad/runtime';

runRoleProcess(['embed'], 'embed-worker');
