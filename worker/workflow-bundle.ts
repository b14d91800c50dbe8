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
 */
export interface SellerWorkflowBundleOptions {
  workflowsPath: string;
  preloadModules: string[];
}

/** A workflow entry bundled this way: its whole module tree preloaded (the benchmarks' floors too). */
export function preloadedBundleOptions(workflowsPath: string): SellerWorkflowBundleOptions {
  return { workflowsPath, preloadModules: [workflowsPath] };
}

export function sellerWorkflowBundleOptions(): SellerWorkflowBundleOptions {
  return preloadedBundleOptions(require.resolve('../workflows'));
}
