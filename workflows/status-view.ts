/**
 * The public status view's type (docs/design.md §3). Its zod schema lives in common/status-schema.ts,
 * outside the workflow bundle: the workflow needs only the type (a type-only import is erased).
 */
export type { ConnectionStatus } from '../common/status-schema';
