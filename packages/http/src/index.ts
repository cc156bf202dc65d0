export { type ApiContext, createApiContext } from './api-context.js';
export { type AppOptions, BULL_BOARD_PATH, buildApp } from './app.js';
export { ApiMetrics } from './metrics.js';
export { type RunningApi, startApi } from './start-api.js';
