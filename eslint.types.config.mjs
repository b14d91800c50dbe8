// @ts-check
// The type-aware lint (`npm run typecheck` runs it after tsc): see projectConfig in eslint.config.mjs.
import { projectConfig } from './eslint.config.mjs';

export default projectConfig({ typed: true });
