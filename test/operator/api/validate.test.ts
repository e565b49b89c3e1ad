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

  it('refuses a send rate on capture-file targets (only wire exports have one)', () => {
    const spec = cloudTapWith({
      targets: [
        { name: 'vol', type: 'pcapVolume', claimName: 'c', rate: 10 },
        { name: 'vx', type: 'vxlan', host: 'h', vni: 1, rate: 10 },
      ],
    }).spec;
    expect(validateSpec(spec)).to.deep.equal([{ field: 'spec.targets[0].rate', message: 'applies only to vxlan, geneve and pcapOverIp targets, not pcapVolume' }]);
  });

  it('limits names so that child names stay valid', () => {
    expect(validateName('a'.repeat(40))).to.deep.equal([]);
    expect(validateName('a'.repeat(41))).to.have.length(1);
    expect(validateName('Bad_Name')).to.have.length(1);
  });
});
