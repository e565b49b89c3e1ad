/** Store URLs: every scheme, its query, its defaults, and messages that never carry a query. */
import { expect } from 'chai';
import { describeStoreUrl, KeyRoot, parseStoreUrl } from '../../stitcher/store/store-url.js';

describe('store URLs', () => {
  it('parses a local folder', () => {
    expect(parseStoreUrl('file:///data/tap/')).to.deep.equal({ scheme: 'file', path: '/data/tap' });
  });

  it('parses S3 with region and a custom endpoint', () => {
    expect(parseStoreUrl('s3://my-bucket/tap/root?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A9000')).to.deep.equal({
      scheme: 's3', bucket: 'my-bucket', prefix: 'tap/root/', region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000',
    });
    expect(parseStoreUrl('s3://my-bucket')).to.deep.equal({ scheme: 's3', bucket: 'my-bucket', prefix: '' });
  });

  it('parses GCS and Azure Blob', () => {
    expect(parseStoreUrl('gs://b/p?endpoint=http://127.0.0.1:4443')).to.deep.equal({
      scheme: 'gs', bucket: 'b', prefix: 'p/', endpoint: 'http://127.0.0.1:4443',
    });
    expect(parseStoreUrl('azblob://acct/box/a/b?endpoint=http://127.0.0.1:10000/acct')).to.deep.equal({
      scheme: 'azblob', account: 'acct', container: 'box', prefix: 'a/b/', endpoint: 'http://127.0.0.1:10000/acct',
    });
    expect(parseStoreUrl('azblob://acct/box')).to.deep.equal({ scheme: 'azblob', account: 'acct', container: 'box', prefix: '' });
  });

  it('refuses what it cannot use, without echoing the query', () => {
    expect(() => parseStoreUrl('ftp://x/y')).to.throw(/unknown scheme "ftp"/);
    expect(() => parseStoreUrl('azblob://acct')).to.throw(/no container/);
    expect(() => parseStoreUrl('s3://b/p?sig=TOPSECRET')).to.throw(/unknown query parameter "sig"/);
    expect(() => parseStoreUrl('s3://b/p?sig=TOPSECRET')).not.to.throw(/TOPSECRET/);
    expect(() => parseStoreUrl('gs://b/p?endpoint=ftp://x')).to.throw(/http/);
    expect(() => parseStoreUrl('file://host/path')).to.throw(/absolute path/);
  });

  it('describes a store without user info or query', () => {
    const url = parseStoreUrl('s3://b/p?endpoint=http%3A%2F%2Fuser%3Apass%40127.0.0.1%3A9000%2F%3Ftoken%3Dx');
    const text = describeStoreUrl(url);
    expect(text).to.equal('s3://b/p/ at http://127.0.0.1:9000');
  });

  it('maps relative keys to full names under the root and back', () => {
    const root = new KeyRoot('tap/');
    expect(root.full('2026/a.ctap')).to.equal('tap/2026/a.ctap');
    expect(root.relative('tap/2026/a.ctap')).to.equal('2026/a.ctap');
    expect(root.fullOrUndefined(undefined)).to.equal(undefined);
  });
});
