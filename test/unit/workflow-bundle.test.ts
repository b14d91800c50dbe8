/**
 * What the workflow bundle may contain (issue 15, memory). With the reusable V8 context (the SDK default)
 * every module the workflow imports is evaluated again for each cached workflow, so the bundle holds only
 * the SDK (and its own dependencies), our workflows/ and the pure common/ modules they need: zod alone
 * cost ~0.5 MB per cached seller (bench/workflow-memory.ts). The lint rule that keeps zod and the other
 * common/ modules out of workflow code is checked here too.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleModuleList } from '../../bench/workflow-memory';
import { sellerWorkflowBundleOptions } from '../../worker/workflow-bundle';

const root = join(__dirname, '..', '..');

/** The SDK's workflow runtime and what it depends on; nothing else from node_modules. */
const ALLOWED_PACKAGES = ['@temporalio/common', '@temporalio/workflow', 'long', 'ms', 'nexus-rpc'];
/** The common/ modules workflow code may import as values (pure data, no zod, no Node). */
const ALLOWED_COMMON = ['./common/workflow-input-rules.ts', './common/workflow-names.ts'];

describe('the workflow bundle', () => {
  let code = '';
  let modules: string[] = [];

  beforeAll(async () => {
    const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
    // As every worker bundles it (worker/workflow-bundle.ts).
    ({ code } = await bundleWorkflowCode({ ...sellerWorkflowBundleOptions(), logger: quiet }));
    modules = bundleModuleList(code);
    console.log(`workflow bundle: ${Math.round(Buffer.byteLength(code) / 1024)} KiB, ${modules.join(', ')}`);
  }, 120_000);

  it('has no zod', () => {
    expect(code).not.toMatch(/node_modules\/zod\//);
    expect(modules).not.toContain('zod');
  });

  it('holds only the SDK, workflows/ and the pure common/ modules', () => {
    const outside = modules.filter(
      (m) =>
        !ALLOWED_PACKAGES.includes(m) &&
        !ALLOWED_COMMON.includes(m) &&
        !m.startsWith('./workflows/') &&
        // Modules the SDK's bundler ignores (empty stand-ins such as its payload-converter hooks).
        !/^\?[0-9a-f]+$/.test(m),
    );
    expect(outside).toEqual([]);
  });

  it("maps its code to our files and lines without carrying the sources' text", () => {
    const at = code.lastIndexOf('//# sourceMappingURL=data:application/json');
    expect(at).toBeGreaterThan(0);
    const base64 = code.slice(code.indexOf('base64,', at) + 'base64,'.length).trim();
    const map = JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as {
      sources: string[];
      mappings: string;
      sourcesContent?: (string | null)[];
    };
    // The SDK source-maps every workflow stack frame through these (the Temporal UI's stack traces).
    expect(map.sources.some((s) => s.endsWith('/workflows/seller-connection.ts'))).toBe(true);
    expect(map.mappings.length).toBeGreaterThan(1_000);
    // The text is read only with the worker option showStackTraceSources, which stays off.
    expect(map.sourcesContent ?? []).toEqual([]);
  });
});

describe('the workflow sandbox lint rule', () => {
  it('refuses value imports of zod and of common/ modules other than the pure ones', async () => {
    const source = [
      "import { z } from 'zod';",
      "import type { ZodType } from 'zod';",
      "import { workflowSettingsSchema } from '../../../common/workflow-schemas';",
      "import type { WorkflowSettings } from '../../../common/workflow-schemas';",
      "import { TRANSFER_KINDS } from '../../../common/workflow-names';",
      "import { SETTINGS_DEFAULTS } from '../../../common/workflow-input-rules';",
      "import { connectionStatusSchema } from '../../../common/status-schema';",
      'export const used = [z, workflowSettingsSchema, TRANSFER_KINDS, SETTINGS_DEFAULTS, connectionStatusSchema];',
      'export type Used = [ZodType, WorkflowSettings];',
      '',
    ].join('\n');
    const eslintBin = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');
    const args = [
      eslintBin,
      '--no-ignore',
      '--format',
      'json',
      '--stdin',
      // A workflow file by its path (test/fixtures/workflows/ is linted with the workflow rules).
      '--stdin-filename',
      join(root, 'test', 'fixtures', 'workflows', 'zod-value-import.ts'),
    ];
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(process.execPath, args, { cwd: root }, (err, out) => {
        // ESLint exits 1 when it reports errors; its JSON report is still on stdout.
        if (out) resolve(out);
        else reject(err ?? new Error('eslint printed nothing'));
      });
      child.stdin?.end(source);
    });
    const [result] = JSON.parse(stdout) as Array<{
      messages: Array<{ ruleId: string | null; line: number }>;
    }>;
    const refused = (result?.messages ?? [])
      .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
      .map((m) => m.line);
    expect(refused).toEqual([1, 3, 7]);
  }, 120_000);
});
