/**
 * The dashboard and the alerts against a real Prometheus: one on loopback
 * (free port, temporary storage, 1 s scrapes) scrapes a polling stitcher
 * (`bin/cloudtap stitch` without --once, with a file output decrypting TLS and
 * a pcap-over-ip output nobody listens to) and the operator process
 * reconciling a CloudTap. Every panel's every query, sent through
 * Prometheus's HTTP API, must return data; every rule must load and evaluate.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { generateTraffic } from '../../stitcher/generator/generate.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { startCloudtap, type RunningCloudtap } from '../support/cli.js';
import { freePort, waitForMetric } from '../support/metrics-client.js';
import { compiledRoot, nodeBinary, projectRoot } from '../support/paths.js';
import { awsCredentials, cloudTap, secret, startCluster, waitFor, type Cluster } from '../operator/controller/harness.js';
import { haveHelm, prometheus, queryPanels, renderedRuleGroups } from './chart-monitoring.js';

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** What Grafana would send for the dashboard's variables: every namespace and CloudTap, a rate window that spans several scrapes. */
function asGrafanaSends(expr: string): string {
  return expr.replaceAll('$namespace', '.*').replaceAll('$cloudtap', '.*').replaceAll('$__rate_interval', '30s');
}

describe('monitoring: a live Prometheus scraping a stitcher and the operator', function () {
  this.timeout(180_000);
  let folder: string;
  let cluster: Cluster | undefined;
  let operator: ChildProcess | undefined;
  let stitcher: RunningCloudtap | undefined;
  let server: ChildProcess | undefined;
  let serverLog = '';
  let api: string;

  before(async function () {
    if (!existsSync(prometheus) || !haveHelm()) this.skip();
    folder = mkdtempSync(join(tmpdir(), 'cloudtap-prometheus-'));

    // The operator, reconciling one CloudTap in the test API server.
    cluster = await startCluster();
    const kubeconfig = join(folder, 'kubeconfig');
    cluster.kubeConfigFile(kubeconfig);
    chmodSync(kubeconfig, 0o600);
    const { resources } = cluster.server;
    resources.create(cluster.type('', 'v1', 'secrets'), 'default', secret('tap-creds', awsCredentials));
    resources.create(cluster.type('cloudtap.io', 'v1alpha1', 'cloudtaps'), 'default', cloudTap('tap', { sizing: { shards: 1 } }));
    const operatorPort = await freePort();
    operator = spawn(nodeBinary, [join(compiledRoot, 'operator', 'main.js')], {
      env: { ...process.env, KUBECONFIG: kubeconfig, METRICS_PORT: String(operatorPort), POD_NAME: 'operator-0', POD_NAMESPACE: 'default', LEASE_DURATION: '5', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });

    // A polling stitcher: TLS decrypted into a file, and a wire output that drops everything.
    const bucket = join(folder, 'bucket');
    mkdirSync(bucket);
    const stitcherPort = await freePort();
    const nobody = await freePort();
    stitcher = startCloudtap(['stitch', '--source', `file://${bucket}`, '--output', `pcap://${join(folder, 'out.pcap')}?variant=both`,
      '--output', `pcap-over-ip://127.0.0.1:${nobody}`, '--poll-interval', '200ms', '--metrics-port', String(stitcherPort), '--quiet', '--log-level', 'error']);
    const traffic = await generateTraffic({ traffic: new LocalFolderStore(bucket), flows: 12, gateways: 2, seed: 'prometheus', bodyBytes: [30_000] });
    expect(await waitForMetric(stitcherPort, 'cloudtap_objects_read_total', traffic.trafficObjects), stitcher.printed.stderr).to.equal(traffic.trafficObjects);

    // Prometheus, with the chart's rules, labelling the stitcher as the chart's monitors relabel a shard.
    const rules = join(folder, 'rules.yaml');
    writeFileSync(rules, stringify({ groups: await renderedRuleGroups() }));
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [rules],
      scrape_configs: [
        { job_name: 'cloudtap-operator', honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${operatorPort}`] }] },
        { job_name: 'cloudtap-stitcher', static_configs: [{ targets: [`127.0.0.1:${stitcherPort}`], labels: { namespace: 'default', cloudtap: 'tap', shard: '0' } }] },
      ],
    };
    writeFileSync(join(folder, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    api = `http://127.0.0.1:${port}/api/v1`;
    server = spawn(prometheus, [`--config.file=${join(folder, 'prometheus.yml')}`, `--storage.tsdb.path=${join(folder, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h', '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));

    // Both targets up, and enough scrapes for rates over 30 s.
    let up: QueryAnswer | undefined;
    for (let attempt = 0; attempt < 60; attempt++) {
      await sleep(500);
      up = await query('sum(up)').catch(() => undefined);
      if (up?.data?.result[0]?.value[1] === '2') break;
    }
    expect(up?.data?.result[0]?.value[1], `targets up; prometheus log: ${serverLog}`).to.equal('2');
    // More traffic while Prometheus watches: counters move between scrapes (rates, increases, the drop alert).
    const late = await generateTraffic({ traffic: new LocalFolderStore(bucket), flows: 6, gateways: 1, gatewayPrefix: 'gw-late', seed: 'prometheus-late', bodyBytes: [30_000] });
    const objects = traffic.trafficObjects + late.trafficObjects;
    expect(await waitForMetric(stitcherPort, 'cloudtap_objects_read_total', objects), stitcher.printed.stderr).to.equal(objects);
    // The operator has written the CloudTap's status by now (Ready in the API server) and been scraped since.
    await waitFor('the CloudTap reconciled', () => (cluster!.server.resources.storage.get(cluster!.type('cloudtap.io', 'v1alpha1', 'cloudtaps'), 'default', 'tap')?.status as { shards?: number } | undefined)?.shards === 1, 20_000);
    await sleep(6000);
  });

  after(async () => {
    server?.kill('SIGTERM');
    stitcher?.child.kill('SIGTERM');
    operator?.kill('SIGTERM');
    await cluster?.close();
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<QueryAnswer> {
    const response = await fetch(`${api}/query?query=${encodeURIComponent(expr)}`);
    return (await response.json()) as QueryAnswer;
  }

  it('answers every query of every dashboard panel with data', async () => {
    const panels = queryPanels();
    expect(panels.length).to.be.greaterThan(15);
    const empty: string[] = [];
    for (const panel of panels) {
      expect(panel.targets?.length ?? 0, panel.title).to.be.greaterThan(0);
      for (const target of panel.targets ?? []) {
        const answer = await query(asGrafanaSends(target.expr));
        expect(answer.status, `${panel.title}: ${target.expr}: ${answer.error ?? ''}`).to.equal('success');
        if ((answer.data?.result.length ?? 0) === 0) empty.push(`${panel.title}: ${target.expr}`);
      }
    }
    expect(empty, 'panels whose query returned nothing').to.deep.equal([]);
  });

  it('shows the truth of the two outputs and the per-CloudTap operator series through PromQL', async () => {
    const dropped = await query('sum by (output) (cloudtap_output_dropped_packets_total{cloudtap="tap"})');
    const byOutput = Object.fromEntries((dropped.data?.result ?? []).map((r) => [r.metric.output!, Number(r.value[1])]));
    const wire = Object.keys(byOutput).find((output) => output.startsWith('pcap-over-ip://'))!;
    const file = Object.keys(byOutput).find((output) => output.startsWith('pcap://'))!;
    expect(byOutput[file]).to.equal(0);
    expect(byOutput[wire]).to.be.greaterThan(0);
    const shards = await query('cloudtap_operator_cloudtap_shards_desired{namespace="default",cloudtap="tap"}');
    expect(shards.data?.result.map((r) => r.value[1])).to.deep.equal(['1']);
    const decrypted = await query('sum(cloudtap_tls_flows_decrypted_total)');
    expect(Number(decrypted.data?.result[0]?.value[1])).to.be.greaterThan(0);
  });

  it('finds every metric it scraped documented in docs/monitoring.md', async () => {
    const answer = (await (await fetch(`${api}/label/__name__/values`)).json()) as { data: string[] };
    const docs = readFileSync(join(projectRoot, 'docs', 'monitoring.md'), 'utf8');
    const ours = answer.data.filter((name) => name.startsWith('cloudtap_')).map((name) => name.replace(/_(bucket|sum|count)$/, ''));
    expect(ours.length).to.be.greaterThan(40);
    expect([...new Set(ours)].filter((name) => !docs.includes(`\`${name}`) && !docs.includes(`${name}\``) && !docs.includes(`${name}{`))).to.deep.equal([]);
  });

  it('loads every alert rule and evaluates it without error', async () => {
    const answer = (await (await fetch(`${api}/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const loaded = answer.data.groups.flatMap((group) => group.rules);
    const expected = (await renderedRuleGroups()).flatMap((group) => group.rules.map((rule) => rule.alert));
    expect(loaded.map((rule) => rule.name).sort()).to.deep.equal([...expected].sort());
    for (const rule of loaded) expect(rule.health, `${rule.name}: ${rule.lastError ?? ''}`).to.equal('ok');
    // The dropping output is live: its alert is pending or firing already (it has no `for`).
    const alerts = (await (await fetch(`${api}/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    expect(alerts.data.alerts.filter((alert) => alert.labels.alertname === 'CloudTapExportDrops').map((alert) => alert.labels.output)).to.satisfy(
      (outputs: string[]) => outputs.length === 1 && outputs[0]!.startsWith('pcap-over-ip://'),
    );
  });
});
