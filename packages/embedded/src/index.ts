export {
  EmbeddedPostgresError,
  type EmbeddedPostgresFailure,
} from './embedded-postgres-error.js';
export {
  type EmbeddedServer,
  type StartEmbeddedPostgresOptions,
  startEmbeddedPostgres,
} from './embedded-server.js';
export { isPortOpen } from './port-probe.js';
export { type EmbeddedServerStatus, embeddedServerStatus } from './server-status.js';
