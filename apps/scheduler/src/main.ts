import { runRoleProcess } from '@vad/runtime';

runRoleProcess(['scheduler'], 'scheduler');
