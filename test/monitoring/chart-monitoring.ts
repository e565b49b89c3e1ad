/** The chart's monitoring objects as the tests read them: rendered by helm, never copied by hand. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { toolPath } from '../cluster/tools.js';
import { projectRoot } from '../support/paths.js';

const run = promisify(execFile);
/** Helm built from helm.sh/helm/v4 by bin/install-k8s-tools (the npm Helm is gone). */
export const helm = toolPath('helm');
export const chart = join(projectRoot, 'charts', 'cloudtap');
export const promtool = '/usr/bin/promtool';
export const prometheus = '/usr/bin/prometheus';

export type Json = Record<string, unknown>;

export function haveHelm(): boolean {
  return existsSync(helm);
}

export async function renderChart(...args: string[]): Promise<Json[]> {
  const { stdout } = await run(helm, ['template', 'ct', chart, '--namespace', 'ops', ...args]);
  return parseAllDocuments(stdout).map((document) => document.toJS() as Json).filter(Boolean);
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly annotations: Record<string, string>;
}

/** The PrometheusRule's groups, as a Prometheus rules file holds them. */
export async function renderedRuleGroups(): Promise<{ name: string; rules: AlertRule[] }[]> {
  const objects = await renderChart('--set', 'monitoring.prometheusRule.enabled=true');
  const rule = objects.find((object) => object.kind === 'PrometheusRule');
  if (rule === undefined) throw new Error('the chart rendered no PrometheusRule');
  return (rule.spec as { groups: { name: string; rules: AlertRule[] }[] }).groups;
}

export interface DashboardPanel {
  readonly title: string;
  readonly type: string;
  readonly targets?: { expr: string; legendFormat?: string; refId?: string }[];
  readonly panels?: DashboardPanel[];
}

/** The dashboard JSON in the repository, the file the chart's ConfigMap carries. */
export function dashboard(): { title: string; uid: string; panels: DashboardPanel[]; templating: { list: Json[] } } {
  return JSON.parse(readFileSync(join(chart, 'dashboards', 'cloudtap.json'), 'utf8')) as ReturnType<typeof dashboard>;
}

/** Every panel with queries, rows unfolded. */
export function queryPanels(): DashboardPanel[] {
  const flat = (panels: DashboardPanel[]): DashboardPanel[] => panels.flatMap((panel) => [panel, ...flat(panel.panels ?? [])]);
  return flat(dashboard().panels).filter((panel) => panel.type !== 'row');
}
