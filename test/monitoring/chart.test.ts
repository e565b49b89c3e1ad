/**
 * The chart's monitoring values, rendered by helm: nothing by default; with
 * each switch, its objects; and their selectors pick what the operator
 * really creates (labels taken from operator/specs, not copied).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { desiredState } from '../../operator/specs/desired.js';
import { loadExamples, secretData } from '../operator/support.js';
import { chart, haveHelm, helm, renderChart, type Json } from './chart-monitoring.js';

const run = promisify(execFile);
const monitoringKinds = ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'];
const metadataOf = (object: Json) => object.metadata as { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };

/** The objects the operator builds for the first example: the shards' metrics Service and pod template. */
function operatorChildren(): { service: Json; podLabels: Record<string, string>; namespace: string } {
  const example = loadExamples()[0]!;
  const secretName = String((example.secret.metadata as Json).name);
  const objects = desiredState(example.cloudTap, { [secretName]: secretData(example.secret) }).objects as Json[];
  const service = objects.find((object) => object.kind === 'Service')!;
  const deployment = objects.find((object) => object.kind === 'Deployment')!;
  const template = (deployment.spec as Json).template as Json;
  return { service, podLabels: metadataOf(template).labels!, namespace: example.cloudTap.metadata.namespace };
}

describe('charts/cloudtap monitoring values', function () {
  this.timeout(60_000);

  before(function () {
    if (!haveHelm()) this.skip();
  });

  it('renders no monitoring object by default', async () => {
    const objects = await renderChart();
    expect(objects.filter((object) => monitoringKinds.includes(String(object.kind)))).to.deep.equal([]);
    expect(objects.filter((object) => object.kind === 'ConfigMap')).to.deep.equal([]);
  });

  it('passes helm lint --strict with every switch on', async () => {
    const { stdout } = await run(helm, ['lint', '--strict', chart, '--set', 'monitoring.serviceMonitor.enabled=true', '--set', 'monitoring.podMonitor.enabled=true',
      '--set', 'monitoring.prometheusRule.enabled=true', '--set', 'monitoring.dashboards.enabled=true']);
    expect(stdout).to.include('0 chart(s) failed');
  });

  it('renders ServiceMonitors whose selectors pick the operator\'s Service and the shards\' metrics Service', async () => {
    const objects = await renderChart('--set', 'monitoring.serviceMonitor.enabled=true', '--set', 'monitoring.labels.release=kps');
    const monitors = objects.filter((object) => object.kind === 'ServiceMonitor');
    expect(monitors.map((monitor) => metadataOf(monitor).name).sort()).to.deep.equal(['ct-cloudtap-operator', 'ct-cloudtap-shards']);
    for (const monitor of monitors) expect(metadataOf(monitor).labels?.release).to.equal('kps');
    const [operatorMonitor, shardMonitor] = ['ct-cloudtap-operator', 'ct-cloudtap-shards'].map((name) => monitors.find((monitor) => metadataOf(monitor).name === name)!.spec as Json);

    const service = objects.find((object) => object.kind === 'Service')!;
    expect(metadataOf(service).labels, 'labels the selector must match').to.include((operatorMonitor!.selector as Json).matchLabels as Record<string, string>);
    const operatorEndpoint = (operatorMonitor!.endpoints as Json[])[0]!;
    expect(operatorEndpoint).to.include({ port: 'metrics', honorLabels: true });
    // The Service points at the operator pods' metrics port.
    const deployment = objects.find((object) => object.kind === 'Deployment')!;
    const podLabels = metadataOf((deployment.spec as Json).template as Json).labels;
    expect(podLabels, 'labels the selector must match').to.include((service.spec as Json).selector as Record<string, string>);

    const shards = operatorChildren();
    expect(metadataOf(shards.service).labels, 'labels the selector must match').to.include((shardMonitor!.selector as Json).matchLabels as Record<string, string>);
    expect(shardMonitor!.namespaceSelector).to.deep.equal({ any: true });
    const ports = ((shards.service.spec as Json).ports as Json[]).map((port) => port.name);
    const endpoint = (shardMonitor!.endpoints as Json[])[0]! as { port: string; relabelings: { sourceLabels: string[]; targetLabel: string }[] };
    expect(ports).to.include(endpoint.port);
    // The relabelings read the pod labels the operator sets.
    for (const relabel of endpoint.relabelings) {
      const label = relabel.sourceLabels[0]!.replace('__meta_kubernetes_pod_label_', '');
      expect(Object.keys(shards.podLabels).map((key) => key.replace(/[^a-zA-Z0-9_]/g, '_')), relabel.targetLabel).to.include(label);
    }
  });

  it('renders PodMonitors that pick the operator pods and the stitcher pods, in the watched namespace when there is one', async () => {
    const objects = await renderChart('--set', 'monitoring.podMonitor.enabled=true', '--set', 'watchNamespace=taps');
    const monitors = objects.filter((object) => object.kind === 'PodMonitor');
    expect(monitors).to.have.length(2);
    const shardMonitor = monitors.find((monitor) => metadataOf(monitor).name === 'ct-cloudtap-shards')!.spec as Json;
    expect(shardMonitor.namespaceSelector).to.deep.equal({ matchNames: ['taps'] });
    expect(operatorChildren().podLabels, 'labels the selector must match').to.include((shardMonitor.selector as Json).matchLabels as Record<string, string>);
    const operatorMonitor = monitors.find((monitor) => metadataOf(monitor).name === 'ct-cloudtap-operator')!.spec as Json;
    const deployment = objects.find((object) => object.kind === 'Deployment')!;
    expect(metadataOf((deployment.spec as Json).template as Json).labels, 'labels the selector must match').to.include((operatorMonitor.selector as Json).matchLabels as Record<string, string>);
    expect(objects.filter((object) => object.kind === 'ServiceMonitor')).to.have.length(0);
  });

  it('renders a PrometheusRule with the thresholds from the values', async () => {
    const objects = await renderChart('--set', 'monitoring.prometheusRule.enabled=true', '--set', 'monitoring.prometheusRule.lagThresholdSeconds=1234');
    const rule = objects.find((object) => object.kind === 'PrometheusRule')!;
    const rules = ((rule.spec as Json).groups as { rules: { alert: string; expr: string }[] }[]).flatMap((group) => group.rules);
    expect(rules.find((r) => r.alert === 'CloudTapLagHigh')!.expr).to.match(/> 1234$/);
  });

  it('ships the repository\'s dashboard in a ConfigMap labelled for Grafana\'s sidecar', async () => {
    const objects = await renderChart('--set', 'monitoring.dashboards.enabled=true', '--set', 'monitoring.dashboards.namespace=grafana', '--set', 'monitoring.dashboards.folder=NDR');
    const configMap = objects.find((object) => object.kind === 'ConfigMap')!;
    expect(metadataOf(configMap).labels).to.include({ grafana_dashboard: '1' });
    expect(metadataOf(configMap)).to.include({ namespace: 'grafana' });
    expect(metadataOf(configMap).annotations).to.deep.equal({ grafana_folder: 'NDR' });
    const shipped = (configMap.data as Record<string, string>)['cloudtap.json']!;
    expect(JSON.parse(shipped)).to.deep.equal(JSON.parse(readFileSync(join(chart, 'dashboards', 'cloudtap.json'), 'utf8')));
  });

  it('refuses monitoring values its schema does not know', async () => {
    const failure = await run(helm, ['template', 'ct', chart, '--set', 'monitoring.serviceMonitor.enable=true']).then(() => '', (error: { stderr: string }) => error.stderr);
    expect(failure).to.include('enable');
  });
});
