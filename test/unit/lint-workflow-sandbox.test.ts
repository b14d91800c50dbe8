/**
 * Proves the workflow-sandbox lint rule fires: the fixture under test/fixtures/workflows/ is linted by the
 * ESLint CLI with the project's own eslint.config.mjs (ignores lifted) and must be refused.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');
const eslintBin = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

interface LintMessage {
  ruleId: string | null;
  severity: number;
  message: string;
  line: number;
}

async function lint(args: string[]): Promise<Array<{ filePath: string; messages: LintMessage[] }>> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [eslintBin, '--format', 'json', ...args], {
      cwd: root,
    });
    return JSON.parse(stdout) as Array<{ filePath: string; messages: LintMessage[] }>;
  } catch (err) {
    // ESLint exits 1 when it reports errors; its JSON report is still on stdout.
    const stdout = (err as { stdout?: string }).stdout;
    if (stdout) return JSON.parse(stdout) as Array<{ filePath: string; messages: LintMessage[] }>;
    throw err;
  }
}

describe('workflow sandbox lint rule', () => {
  it('refuses Node built-ins, process, and value imports of other layers in workflow files', async () => {
    const [result] = await lint(['--no-ignore', 'test/fixtures/workflows/imports-fs.ts']);
    const messages = result?.messages ?? [];
    const restricted = messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');
    // fs, node:crypto, and the value import of activities/ — not the type-only imports on lines 6–7.
    expect(restricted.map((m) => m.line).sort((a, b) => a - b)).toEqual([2, 3, 5]);
    expect(restricted.every((m) => m.severity === 2)).toBe(true);
    expect(restricted[0]?.message).toContain('deterministic sandbox');
    expect(messages.some((m) => m.ruleId === 'no-restricted-globals' && m.message.includes('process'))).toBe(
      true,
    );
  }, 120_000);

  it('refuses module-level state in workflow code (the modules are preloaded and shared by every seller)', async () => {
    const [result] = await lint(['--no-ignore', 'test/fixtures/workflows/module-state.ts']);
    const refused = (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax');
    // let, export let, new Map, exported new Set — not the plain constant on line 6.
    expect(refused.map((m) => m.line).sort((a, b) => a - b)).toEqual([2, 3, 4, 5]);
    expect(refused.every((m) => m.severity === 2 && m.message.includes('preloaded'))).toBe(true);
  }, 120_000);

  it('accepts the real workflow code', async () => {
    const results = await lint(['workflows', 'common/workflow-names.ts', 'common/workflow-input-rules.ts']);
    const errors = results.flatMap((r) =>
      r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(results.length).toBeGreaterThanOrEqual(4);
    expect(errors).toEqual([]);
  }, 120_000);
});
