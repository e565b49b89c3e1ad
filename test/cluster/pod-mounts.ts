/**
 * How the test node agent (node-agent.ts) gives a pod's container its volumes:
 * the bash that bind-mounts them at their mount paths in the pod's own mount
 * namespace, and where paths a volume would hide are kept meanwhile.
 */
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';

/** A volume as the container sees it: a host folder bound at `target`. */
export interface Mount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** Where a pod's container holds the paths its volumes would hide (see podScript): on the host's /run, which no volume covers. */
export function keepDir(pod: V1Pod, container: string): string {
  return join('/run', 'cloudtap-node-keep', `${pod.metadata!.uid}-${container}`);
}

/**
 * The bash that runs in the pod's network namespace (`ip netns exec` gives it
 * a mount namespace of its own, slave to the host's, so nothing leaks out):
 * a missing mount point is made in an overlay over its nearest existing
 * folder (the host's folder stays untouched), each volume is bind-mounted
 * (read-only where asked), and then the command replaces the shell.
 */
export function podScript(overlayDir: string, mounts: readonly Mount[], workingDir: string, keep: { readonly dir: string; readonly paths: readonly string[] }): string {
  const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const lines = [
    'set -euo pipefail',
    'declare -A over=()',
    'n=0',
    'ensure() {',
    '  local p=$1 a',
    '  [[ -e $p ]] && return 0',
    '  a=$p; while [[ ! -e $a ]]; do a=$(dirname "$a"); done; a=$(readlink -f "$a")',
    // An overlay stacked on / is not seen by paths that start at the process's root: it would write to the host.
    '  [[ $a == / ]] && { echo "node agent: no mount point at the top level: $p" >&2; exit 1; }',
    '  if [[ -z ${over[$a]:-} ]]; then',
    `    n=$((n + 1)); mkdir -p ${q(overlayDir)}/$n/up ${q(overlayDir)}/$n/work`,
    `    mount -t overlay overlay -o "lowerdir=$a,upperdir=${overlayDir}/$n/up,workdir=${overlayDir}/$n/work" "$a"`,
    '    over[$a]=1',
    '  fi',
    '  mkdir -p "$p"',
    '}',
  ];
  // A path a volume would hide is held elsewhere right before that volume goes on (after every overlay
  // `ensure` made: an overlay over the holding place, /run say, would hide it too), then bound back over it.
  const kept = new Set<number>();
  for (const mount of mounts) {
    lines.push(`ensure ${q(mount.target)}`);
    keep.paths.forEach((path, i) => {
      if (kept.has(i) || !(path === mount.target || path.startsWith(`${mount.target}/`))) return;
      kept.add(i);
      lines.push(`mkdir -p ${q(`${keep.dir}/${i}`)}`, `mount --bind ${q(path)} ${q(`${keep.dir}/${i}`)}`);
    });
    lines.push(`mount --bind ${q(mount.source)} ${q(mount.target)}`);
    if (mount.readOnly) lines.push(`mount -o remount,bind,ro ${q(mount.target)}`);
  }
  keep.paths.forEach((path, i) => lines.push(`mkdir -p ${q(path)}`, `mount --bind ${q(`${keep.dir}/${i}`)} ${q(path)}`));
  lines.push(`cd ${q(workingDir)}`, 'exec "$@"');
  return lines.join('\n');
}
