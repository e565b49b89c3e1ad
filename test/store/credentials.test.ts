/**
 * Credential files in the gateway's formats, and the one clear error for a
 * store that cannot be used: it names the store and the credential file, and
 * never shows a secret (each test asserts the secret string is absent).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAwsCredentials, readAzureSharedKey, readGcpServiceAccount } from '../../stitcher/store/credentials.js';
import { StoreAccessError } from '../../stitcher/store/faults.js';
import { openStore } from '../../stitcher/store/open.js';
import { startProviders, stopProviders, type Providers } from '../servers/providers.js';

after(stopProviders);

const FAST_RETRY = { maxAttempts: 2, baseDelayMs: 5, attemptTimeoutMs: 5000 };

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(() => undefined, (error: unknown) => error);
  expect(outcome, 'expected a failure').to.be.instanceOf(Error);
  return outcome as Error;
}

describe('credential files', () => {
  let providers: Providers;
  let folder: string;

  before(async () => {
    providers = await startProviders();
    folder = providers.folder;
  });

  describe('parsing', () => {
    it('reads the AWS format with its optional fields', async () => {
      const file = join(folder, 'aws-full.json');
      await writeFile(file, JSON.stringify({ access_key_id: 'AKIDEXAMPLE', secret_access_key: 's3cr3t', session_token: 'tok', region: 'eu-west-1' }));
      expect(await readAwsCredentials(file)).to.deep.equal({
        accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's3cr3t', sessionToken: 'tok', region: 'eu-west-1',
      });
    });

    it('names the file and the missing field, never the secret', async () => {
      const secret = `secret-${randomBytes(8).toString('hex')}`;
      const file = join(folder, 'aws-partial.json');
      await writeFile(file, JSON.stringify({ secret_access_key: secret }));
      const failure = await failureOf(readAwsCredentials(file));
      expect(failure.message).to.contain(file).and.to.contain('access_key_id').and.not.contain(secret);
    });

    it('does not quote a malformed file', async () => {
      const secret = `secret-${randomBytes(8).toString('hex')}`;
      const file = join(folder, 'azure-broken.json');
      await writeFile(file, `{"access_key": "${secret}",,}`);
      const failure = await failureOf(readAzureSharedKey(file));
      expect(failure.message).to.contain(file).and.to.contain('not valid JSON').and.not.contain(secret);
    });

    it('requires a service-account key for GCP', async () => {
      const file = join(folder, 'gcp-user.json');
      await writeFile(file, JSON.stringify({ type: 'authorized_user', client_secret: 'shh', refresh_token: 'r' }));
      const failure = await failureOf(readGcpServiceAccount(file));
      expect(failure.message).to.contain('"type" must be "service_account"').and.not.contain('shh');
    });

    it('names a missing file', async () => {
      const failure = await failureOf(readAwsCredentials(join(folder, 'absent.json')));
      expect(failure.message).to.contain('absent.json').and.to.contain('ENOENT');
    });
  });

  describe('refused by the real servers', () => {
    it('Azure: a wrong shared key is one clear error naming the container and the file', async () => {
      const wrongKey = randomBytes(64).toString('base64');
      const file = join(folder, 'azure-wrong.json');
      await writeFile(file, JSON.stringify({ access_key: wrongKey }));
      const failure = await failureOf(openStore(providers.azure.url('tap', 'x'), { credentialsFile: file, retry: FAST_RETRY }));
      expect(failure).to.be.instanceOf(StoreAccessError);
      expect(failure.message).to.contain('azblob://devstoreaccount1/tap/x/').and.to.contain(file).and.to.match(/AuthenticationFailed|AuthorizationFailure/);
      expect(failure.message).not.to.contain(wrongKey);
      expect(JSON.stringify(failure)).not.to.contain(wrongKey);
    });

    it('GCS: a key the server does not know is one clear error naming the bucket and the file', async () => {
      const failure = await failureOf(openStore(providers.gcs.url('tap', 'x'), { credentialsFile: providers.wrongGcpKeyFile, retry: FAST_RETRY }));
      expect(failure).to.be.instanceOf(StoreAccessError);
      expect(failure.message).to.contain('gs://tap/x/').and.to.contain(providers.wrongGcpKeyFile).and.to.contain('401');
      expect(failure.message).not.to.contain('PRIVATE KEY');
    });

    it('S3: a wrong secret for a known access key is refused by the signature check: one line naming the bucket and the file, never the secret', async () => {
      const secret = `wrong-${randomBytes(12).toString('hex')}`;
      const file = join(folder, 'aws-wrong-secret.json');
      await writeFile(file, JSON.stringify({ access_key_id: providers.s3Root.accessKeyId, secret_access_key: secret, region: 'us-east-1' }));
      const failure = await failureOf(openStore(providers.s3.url('tap', 'x'), { credentialsFile: file, retry: FAST_RETRY }));
      expect(failure).to.be.instanceOf(StoreAccessError);
      expect(failure.message.split('\n')).to.have.length(1);
      expect(failure.message).to.contain('s3://tap/x/').and.to.contain(file).and.to.contain('SignatureDoesNotMatch');
      expect(failure.message).not.to.contain(secret);
      expect(failure.message).not.to.contain(providers.s3Root.secretAccessKey);
    });

    it('S3: an unknown access key is one clear error naming the bucket and the file', async () => {
      const secret = `secret-${randomBytes(8).toString('hex')}`;
      const file = join(folder, 'aws-wrong.json');
      await writeFile(file, JSON.stringify({ access_key_id: 'AKIAWRONGWRONGWRONG', secret_access_key: secret }));
      const failure = await failureOf(openStore(providers.s3.url('tap', 'x'), { credentialsFile: file, retry: FAST_RETRY }));
      expect(failure).to.be.instanceOf(StoreAccessError);
      // AWS answers InvalidAccessKeyId (403); versitygw its own XAdminUserNotFound (404). Either is "access refused".
      expect(failure.message).to.contain('s3://tap/x/').and.to.contain(file).and.to.contain('access refused').and.to.match(/InvalidAccessKeyId|XAdminUserNotFound/);
      expect(failure.message).not.to.contain(secret);
    });

    for (const provider of ['s3', 'gcs', 'fakeGcs', 'azure'] as const) {
      it(`${provider}: a missing bucket is one clear error naming it`, async () => {
        const access = providers[provider];
        const failure = await failureOf(openStore(access.url('no-such-bucket', 'tap'), { credentialsFile: access.credentialsFile, retry: FAST_RETRY }));
        expect(failure).to.be.instanceOf(StoreAccessError);
        expect(failure.message).to.contain('no-such-bucket').and.to.contain(access.credentialsFile);
        expect(failure.message).not.to.contain(access.secret);
      });
    }

    it('a missing local source folder is a clear error; an output folder may be new', async () => {
      const absent = join(folder, 'not-there');
      const failure = await failureOf(openStore(`file://${absent}`));
      expect(failure.message).to.contain(absent).and.to.contain('does not exist');
      const output = await openStore(`file://${absent}`, { role: 'output' });
      await output.write('a/b', Buffer.from('x'));
    });
  });

  describe('without a credentials file', () => {
    it('S3 uses the default chain (here: the environment)', async () => {
      const saved = { ...process.env };
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: providers.s3Root.accessKeyId, AWS_SECRET_ACCESS_KEY: providers.s3Root.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
      try {
        const store = await openStore(providers.s3.url('tap', 'ambient'));
        await store.write('a.bin', Buffer.from('ambient'));
        expect((await store.list({ prefix: '' })).objects.map((o) => o.key)).to.deep.equal(['a.bin']);
        await store.close?.();
      } finally {
        for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_EC2_METADATA_DISABLED']) {
          if (saved[name] === undefined) delete process.env[name];
          else process.env[name] = saved[name];
        }
      }
    });

    it('says which identity was refused', async () => {
      // The GCS test server wants a service-account token; a custom endpoint without a key file sends none.
      const failure = await failureOf(openStore(providers.gcs.url('tap', 'x'), { retry: FAST_RETRY }));
      expect(failure).to.be.instanceOf(StoreAccessError);
      expect(failure.message).to.contain('gs://tap/x/').and.to.contain('no authentication').and.to.contain('401');
    });
  });

  describe('source and keys in different providers', () => {
    it('opens each with its own credentials and reads both', async () => {
      const source = await openStore(providers.s3.url('tap', 'mixed'), { credentialsFile: providers.s3.credentialsFile, role: 'source' });
      const keys = await openStore(providers.azure.url('keys', 'mixed'), { credentialsFile: providers.azure.credentialsFile, role: 'keys' });
      const gcsKeys = await openStore(providers.gcs.url('keys', 'mixed'), { credentialsFile: providers.gcs.credentialsFile, role: 'keys' });
      await source.write('t.ctap', Buffer.from('traffic'));
      await keys.write('k.keys', Buffer.from('azure keys'));
      await gcsKeys.write('k.keys', Buffer.from('gcs keys'));
      const text = async (stream: NodeJS.ReadableStream): Promise<string> => {
        let all = '';
        for await (const chunk of stream) all += String(chunk);
        return all;
      };
      expect(await text(await source.read('t.ctap'))).to.equal('traffic');
      expect(await text(await keys.read('k.keys'))).to.equal('azure keys');
      expect(await text(await gcsKeys.read('k.keys'))).to.equal('gcs keys');
      await Promise.all([source.close?.(), keys.close?.(), gcsKeys.close?.()]);
    });
  });
});
