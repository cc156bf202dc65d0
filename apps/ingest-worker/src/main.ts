import { runRoleProcess } from '@vad/runtime';

runRoleProcess(['ingest'], 'ingest-worker');
