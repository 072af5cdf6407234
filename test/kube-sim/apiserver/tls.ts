// The test cluster's PKI: a CA made fresh for each cluster and a serving certificate it signs for
// the API server (SANs 127.0.0.1, ::1, localhost and the in-cluster names kubernetes.default.svc…),
// as kubeadm makes them. kubectl and client-go refuse to send a bearer token over plain HTTP, so
// the API server speaks TLS and the kubeconfig carries the CA as certificate-authority-data.
// Node's crypto cannot issue X.509 certificates, so the openssl command does (Debian's `openssl`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClusterPki {
  /** PEM of the CA certificate (what a kubeconfig's certificate-authority-data holds, base64) */
  caCert: string;
  /** PEM of the API server's certificate and key */
  serverCert: string;
  serverKey: string;
}

const SERVER_NAMES = ['DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local', 'IP:127.0.0.1', 'IP:0:0:0:0:0:0:0:1'];

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('kube-sim: the openssl command is needed to make the test cluster\'s CA (apt-get install openssl)');
    throw new Error(`kube-sim: openssl ${args[0] ?? ''} failed: ${e.stderr?.toString().trim() ?? String(err)}`);
  }
}

/** Makes a CA and a serving certificate in `dir` (created; keys mode 0600); EC P-256 keys, ten years. */
export function makeClusterPki(dir: string): ClusterPki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=kube-sim-ca', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', ...ec, '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver'], dir);
  writeFileSync(join(dir, 'apiserver.ext'), `subjectAltName=${SERVER_NAMES.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n`);
  openssl(['x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'apiserver.crt', '-days', '3650', '-extfile', 'apiserver.ext'], dir);
  return {
    caCert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    serverCert: readFileSync(join(dir, 'apiserver.crt'), 'utf8'),
    serverKey: readFileSync(join(dir, 'apiserver.key'), 'utf8'),
  };
}
