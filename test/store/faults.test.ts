/**
 * The errors of three SDKs told apart the same way, and the clear error for
 * a store that refuses access.
 */
import { expect } from 'chai';
import { classifyFault, StoreAccessError, storeError } from '../../stitcher/store/faults.js';

/** Errors shaped as each SDK throws them (the fields the classifier reads, nothing more). */
const s3Error = (name: string, status: number): Error => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const gcsError = (code: number, reason: string): Error => Object.assign(new Error(reason), { code, errors: [{ reason }] });
const azureError = (code: string, statusCode: number): Error => Object.assign(new Error(code), { name: 'RestError', code, statusCode });
const networkError = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });

describe('store faults', () => {
  it('retries throttling from every provider', () => {
    expect(classifyFault(s3Error('SlowDown', 503)).kind).to.equal('transient');
    expect(classifyFault(gcsError(429, 'rateLimitExceeded')).kind).to.equal('transient');
    expect(classifyFault(azureError('ServerBusy', 503)).kind).to.equal('transient');
  });

  it('retries 5xx, timeouts and broken connections', () => {
    expect(classifyFault(s3Error('InternalError', 500)).kind).to.equal('transient');
    expect(classifyFault(gcsError(502, 'backendError')).kind).to.equal('transient');
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED']) expect(classifyFault(networkError(code)).kind, code).to.equal('transient');
    expect(classifyFault(new Error('socket hang up')).kind).to.equal('transient');
  });

  it('does not retry what retrying cannot fix', () => {
    expect(classifyFault(s3Error('InvalidAccessKeyId', 403)).kind).to.equal('access');
    expect(classifyFault(s3Error('NoSuchBucket', 404)).kind).to.equal('access');
    expect(classifyFault(azureError('AuthenticationFailed', 403)).kind).to.equal('access');
    expect(classifyFault(gcsError(401, 'authError')).kind).to.equal('access');
    expect(classifyFault(s3Error('NoSuchKey', 404)).kind).to.equal('missing');
    expect(classifyFault(azureError('ConditionNotMet', 412)).kind).to.equal('changed');
    expect(classifyFault(gcsError(400, 'invalid')).kind).to.equal('fatal');
  });

  it('makes one clear access error naming the store and the file, without the SDK message', () => {
    const secretBearing = Object.assign(new Error('The MAC signature found in the request TOP-SECRET is not the same'), {
      name: 'RestError', code: 'AuthenticationFailed', statusCode: 403,
    });
    const error = storeError({ description: 'azblob://acct/box/tap/', credentialsFile: '/etc/cloudtap/azure.json' }, 'listing ""', secretBearing);
    expect(error).to.be.instanceOf(StoreAccessError);
    expect(error.message).to.contain('azblob://acct/box/tap/').and.to.contain('/etc/cloudtap/azure.json').and.to.contain('AuthenticationFailed');
    expect(error.message).not.to.contain('TOP-SECRET');
  });

  it('treats a 404 on a listing as a missing bucket, on a read as a missing object', () => {
    const notFound = gcsError(404, 'notFound');
    const identity = { description: 'gs://b/p/' };
    expect(storeError(identity, 'listing "x"', notFound, true)).to.be.instanceOf(StoreAccessError);
    const read = storeError(identity, 'reading object a/b', notFound);
    expect(read).not.to.be.instanceOf(StoreAccessError);
    expect(read.message).to.contain('a/b').and.to.contain('not found');
  });

  it('keeps the gist of an unexpected failure, without long key-like tokens', () => {
    const token = 'c2VjcmV0LXNpZ25hdHVyZS12YWx1ZS0xMjM0NTY3ODkw';
    const odd = Object.assign(new Error(`Region is missing near ${token}\nstack-ish second line`), { name: 'Error' });
    const error = storeError({ description: 's3://b/p/' }, 'listing ""', odd);
    expect(error.message).to.contain('s3://b/p/').and.to.contain('Region is missing');
    expect(error.message).not.to.contain(token);
    expect(error.message).not.to.contain('second line');
  });
});
