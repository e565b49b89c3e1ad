/**
 * The `cloudtap` command. Errors are one line on stderr and a non-zero exit
 * (2 for a wrong call, 1 for anything else); CLOUDTAP_DEBUG=1 adds the stack.
 */
import { readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { UsageError } from './usage-error.js';

// V8's code cache on disk (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE): a run
// compiles its modules once, later runs load them ready (about 50 ms of CPU a start). It only
// covers modules loaded after this call, so the commands below are imported when chosen; a
// folder that cannot be written just means no cache.
enableCompileCache();

const USAGE = `usage: cloudtap <command> [options]

commands:
  stitch     read CTAP objects from a bucket or folder and export packets (pcap, pcapng, ...)
  usage      how many bytes the gateways copied into a bucket, per day or hour and gateway (listing only)
  generate   run real HTTP/HTTPS sessions through a simulated tapping gateway and write CTAP objects
  version    print the version

'cloudtap <command> --help' tells more.`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  switch (command) {
    case 'stitch': {
      const { stitchCommand, STITCH_USAGE } = await import('./stitch-command.js');
      return wantsHelp ? printed(STITCH_USAGE) : stitchCommand(rest);
    }
    case 'usage': {
      const { usageCommand, USAGE_USAGE } = await import('./usage-command.js');
      return wantsHelp ? printed(USAGE_USAGE) : usageCommand(rest);
    }
    case 'generate': {
      const { generateCommand, GENERATE_USAGE } = await import('./generate-command.js');
      return wantsHelp ? printed(GENERATE_USAGE) : generateCommand(rest);
    }
    case 'version':
    case '--version':
      return printed(version());
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return printed(USAGE);
    default:
      throw new UsageError(`unknown command '${command}' (try 'cloudtap --help')`);
  }
}

function printed(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

function version(): string {
  const url = new URL('../../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version: string };
  return `cloudtap ${pkg.version} (node ${process.versions.node})`;
}

function report(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
  process.stderr.write(`cloudtap: ${message.split('\n')[0]}\n`);
  if (process.env.CLOUDTAP_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  return usage ? 2 : 1;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => { process.exitCode = report(error); },
);
