/**
 * The control plane's keys and certificates, made with the openssl CLI: one
 * CA, the apiserver's serving certificate (for its loopback and node
 * addresses), client certificates per identity (admin in system:masters, the
 * controller manager, the scheduler, a node), and the service-account
 * signing key pair. Private keys are 0600 in a folder of their own.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClientCert {
  readonly cert: string;
  readonly key: string;
}

export interface Pki {
  readonly dir: string;
  readonly ca: ClientCert;
  readonly serving: ClientCert;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  client(name: string, commonName: string, organisation?: string): ClientCert;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyPair(dir: string, name: string): string {
  const key = join(dir, `${name}.key`);
  openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key);
  chmodSync(key, 0o600);
  return key;
}

function signed(dir: string, ca: ClientCert, name: string, subject: string, extensions: string): ClientCert {
  const key = keyPair(dir, name);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(dir, 'req', '-new', '-key', key, '-subj', subject, '-out', csr);
  openssl(dir, 'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', ext, '-out', cert);
  return { cert, key };
}

export function makePki(dir: string, servingAddresses: readonly string[]): Pki {
  const caKey = keyPair(dir, 'ca');
  const caCert = join(dir, 'ca.crt');
  openssl(dir, 'req', '-x509', '-new', '-key', caKey, '-subj', '/CN=cloudtap-test-ca', '-days', '2', '-sha256', '-out', caCert,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const ca = { cert: caCert, key: caKey };
  const san = ['DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', ...servingAddresses.map((a) => `IP:${a}`)];
  const serving = signed(dir, ca, 'apiserver', '/CN=kube-apiserver',
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san.join(',')}\n`);
  const serviceAccountKey = keyPair(dir, 'service-account');
  const serviceAccountPub = join(dir, 'service-account.pub');
  openssl(dir, 'pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub);
  return {
    dir, ca, serving, serviceAccountKey, serviceAccountPub,
    client: (name, commonName, organisation) =>
      signed(dir, ca, name, `/CN=${commonName}${organisation ? `/O=${organisation}` : ''}`,
        'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n'),
  };
}

/** A kubeconfig with the certificates inline (clients that copy it elsewhere keep working). */
export function kubeconfigText(server: string, caCert: string, user: ClientCert | { readonly token: string }, impersonate?: { readonly user: string; readonly groups?: readonly string[] }): string {
  const b64 = (path: string) => readFileSync(path).toString('base64');
  const credentials = 'token' in user
    ? { token: user.token }
    : { 'client-certificate-data': b64(user.cert), 'client-key-data': b64(user.key) };
  const asUser = impersonate ? { as: impersonate.user, ...(impersonate.groups ? { 'as-groups': impersonate.groups } : {}) } : {};
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'test',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': b64(caCert) } }],
    users: [{ name: 'test', user: { ...credentials, ...asUser } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'test', namespace: 'default' } }],
  }, null, 2);
}
