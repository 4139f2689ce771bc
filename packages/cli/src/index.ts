export { runCli, createProgram, EXIT } from './program.js';
export {
  statusRows,
  summarize,
  SECRET_STATES,
  type StatusRow,
  type SecretState,
} from './status-model.js';
export { requiredPermissions, type Permission, type Check } from './doctor-model.js';
