import { expect } from 'chai';
import { validateName, validateSpec } from '../../../operator/api/validate.js';
import { cloudTapWith, loadExamples } from '../support.js';

describe('operator/api/validate', () => {
  it('accepts every example', () => {
    for (const example of loadExamples()) expect(validateSpec(example.cloudTap.spec), example.file).to.deep.equal([]);
  });

  it('names the field at fault', () => {
    const spec = cloudTapWith({
      source: { provider: 'gcs', bucket: 'b', region: 'x' },
      targets: [
        { name: 'a', type: 'vxlan', host: 'h' },
        { name: 'a', type: 'pcapVolume' },
      ],
      stitcher: { pollInterval: 'soon' },
    }).spec;
    expect(validateSpec(spec).map((problem) => problem.field)).to.have.members([
      'spec.source.region',
      'spec.targets[0].vni',
      'spec.targets[1].name',
      'spec.targets[1].claimName',
      'spec.stitcher.pollInterval',
    ]);
  });

  it('refuses resource quantities the apiserver would refuse in the Deployment', () => {
    const spec = (requests: Record<string, string>) => cloudTapWith({
      source: { provider: 'gcs', bucket: 'b' }, targets: [{ name: 't', type: 'pcapOverIp', host: 'h' }], sizing: { resources: { requests } },
    }).spec;
    expect(validateSpec(spec({ cpu: '500m', memory: '1Gi' }))).to.deep.equal([]);
    expect(validateSpec(spec({ cpu: '1.5', memory: '1e9' }))).to.deep.equal([]);
    expect(validateSpec(spec({ cpu: 'lots' })).map((problem) => problem.field)).to.deep.equal(['spec.sizing.resources.requests.cpu']);
    expect(validateSpec(spec({ memory: '1GB' })).map((problem) => problem.field)).to.deep.equal(['spec.sizing.resources.requests.memory']);
  });

  it('limits names so that child names stay valid', () => {
    expect(validateName('a'.repeat(40))).to.deep.equal([]);
    expect(validateName('a'.repeat(41))).to.have.length(1);
    expect(validateName('Bad_Name')).to.have.length(1);
  });
});
