/**
 * How the seller workflows are bundled, everywhere a bundle is made (the worker, the image's prebuilt
 * bundle, the benchmarks, the recorded histories): one place, so they all run the same code the same way.
 *
 * `preloadModules`: with the reusable V8 context (the SDK's default executor) every cached workflow gets
 * its own module cache, so each module of the workflow code is evaluated again per cached seller (every
 * top-level function a new closure, every constant table a new copy). A preloaded module is evaluated
 * once, when the context is made, shared by every workflow of the context and deep-frozen. Our workflow
 * modules keep no per-workflow state at module level (a seller's state lives in its workflow function's
 * scope; the SDK's per-workflow state in its activator), so the whole workflow tree is preloaded.
 * test/workflows/preload-modules.test.ts proves two sellers share nothing through it.
 *
 * `webpackConfigHook`: the bundle's inline source map leaves out the sources' text
 * (`inline-nosources-source-map` instead of the SDK's `inline-source-map`). The SDK maps every workflow
 * stack frame through the map's mappings, which stay, so stack traces (the Temporal UI's "Stack Trace"
 * tab, failures) still name our files and lines; the text itself is read only by the enhanced stack
 * trace query with the worker option `showStackTraceSources`, which this project leaves off. Without
 * it the bundle is 1.1 MB instead of 2.1 MB, and a worker process holds ≈ 20 MB less at idle (the workflow
 * thread's heap 4 MB less: the map's parsed sources, the script's source and their copies on the way in;
 * docs/scaling.md §4, "The workflow bundle without its sources").
 */
import type { BundleOptions } from '@temporalio/worker';

export interface SellerWorkflowBundleOptions {
  workflowsPath: string;
  preloadModules: string[];
  webpackConfigHook: NonNullable<BundleOptions['webpackConfigHook']>;
}

/** The source map's devtool: mappings and file names, not the sources' text. */
const WORKFLOW_BUNDLE_DEVTOOL = 'inline-nosources-source-map';

function withoutSources(config: Parameters<SellerWorkflowBundleOptions['webpackConfigHook']>[0]) {
  return { ...config, devtool: WORKFLOW_BUNDLE_DEVTOOL };
}

/** A workflow entry bundled this way: its whole module tree preloaded (the benchmarks' floors too). */
export function preloadedBundleOptions(workflowsPath: string): SellerWorkflowBundleOptions {
  return { workflowsPath, preloadModules: [workflowsPath], webpackConfigHook: withoutSources };
}

export function sellerWorkflowBundleOptions(): SellerWorkflowBundleOptions {
  return preloadedBundleOptions(require.resolve('../workflows'));
}
