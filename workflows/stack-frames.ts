/**
 * Stack frames V8 captures per trace in workflow code (set by the bundle's entry point, workflows/index.ts;
 * V8's default is 10). The SDK captures a stack trace of every promise a workflow creates, source-maps
 * each frame and keeps the result while the promise is pending, for the Temporal UI's stack trace view: a
 * good part of a workflow thread's CPU (docs/scaling.md §4, "Stack traces of pending promises"). It then
 * cuts each trace at its own frames, so the view shows the SDK call and the lines of ours that wait on it,
 * rarely more than five frames: capturing and source-mapping the rest is work for nothing.
 * test/workflows/preload-modules.test.ts checks that every stack in the view still names a line of ours.
 */
export const WORKFLOW_STACK_FRAMES = 6;
