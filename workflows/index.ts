// The worker's workflow bundle entry point. Preloaded (worker/workflow-bundle.ts): evaluated once per
// reusable V8 context, before the SDK freezes that context's globals, so the limit below is the context's
// own (the worker thread's other code keeps V8's default).
import { WORKFLOW_STACK_FRAMES } from './stack-frames';

Error.stackTraceLimit = WORKFLOW_STACK_FRAMES;

export { sellerConnection } from './seller-connection';
export { webhookOutbox } from './webhook-outbox';
