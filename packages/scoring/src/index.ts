export { type Clip, cutClips } from './clips.js';
