/**
 * The chart's alerts, judged by Prometheus's own promtool: the rules file
 * the PrometheusRule renders to passes `promtool check rules`, and
 * `promtool test rules` (test/monitoring/alerts.promtest.yaml) makes every
 * alert fire on series that should fire it. Every alert names a runbook
 * section that exists in docs/monitoring.md.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { projectRoot } from '../support/paths.js';
import { haveHelm, promtool, renderedRuleGroups } from './chart-monitoring.js';

const run = promisify(execFile);
const promTests = join(projectRoot, 'test', 'monitoring', 'alerts.promtest.yaml');

/** GitHub's anchor for a Markdown heading. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

describe('monitoring: the alerts', function () {
  this.timeout(60_000);
  let folder: string;
  let alerts: string[];

  before(async function () {
    if (!haveHelm() || !existsSync(promtool)) this.skip();
    folder = mkdtempSync(join(tmpdir(), 'cloudtap-rules-'));
    const groups = await renderedRuleGroups();
    alerts = groups.flatMap((group) => group.rules.map((rule) => rule.alert));
    writeFileSync(join(folder, 'rules.yaml'), stringify({ groups }));
    copyFileSync(promTests, join(folder, 'alerts.promtest.yaml'));
  });

  it('passes promtool check rules', async () => {
    const { stdout } = await run(promtool, ['check', 'rules', join(folder, 'rules.yaml')]);
    expect(stdout).to.include(`SUCCESS: ${alerts.length} rules found`);
    expect(alerts).to.include.members(['CloudTapLagHigh', 'CloudTapShardNotReporting', 'CloudTapDamagedObjects', 'CloudTapHoles',
      'CloudTapDecryptionFailures', 'CloudTapExportDrops', 'CloudTapReconcileErrors']);
  });

  it('passes promtool test rules, with a test that fires every alert', async () => {
    const tests = parse(readFileSync(promTests, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const fired = new Set(tests.tests.flatMap((test) => test.alert_rule_test.filter((case_) => case_.exp_alerts.length > 0).map((case_) => case_.alertname)));
    expect([...fired].sort()).to.deep.equal([...alerts].sort());
    const result = await run(promtool, ['test', 'rules', join(folder, 'alerts.promtest.yaml')]).then(
      ({ stdout }) => stdout,
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    expect(result).to.match(/SUCCESS/);
    expect(result).to.not.match(/FAILED/);
  });

  it('points every alert at its runbook section in docs/monitoring.md', async () => {
    const docs = readFileSync(join(projectRoot, 'docs', 'monitoring.md'), 'utf8');
    const anchors = new Set([...docs.matchAll(/^#{2,4} (.+)$/gm)].map((match) => anchorOf(match[1]!)));
    for (const group of await renderedRuleGroups()) {
      for (const rule of group.rules) {
        const url = rule.annotations.runbook_url ?? '';
        expect(url, rule.alert).to.match(/docs\/monitoring\.md#/);
        expect(anchors, `${rule.alert}: no section ${url.split('#')[1]} in docs/monitoring.md`).to.include(url.split('#')[1]);
      }
    }
  });
});
