// `npm run --silent kube-sim -- --state-dir DIR [--latency zero|realistic] [--registry-auth USER:PASS]
//   [--port N] [--no-kubelet]`
// Starts the kube-sim cluster (real registry, simulated API server, kubelet), writes
// DIR/kubeconfig, DIR/registry and DIR/audit.jsonl, prints a line containing `ready`, and runs
// until SIGINT/SIGTERM, then stops everything it started (kubelet containers, API server, registry
// process and its storage, the kubelet's directory). The kubeconfig, registry and audit files stay
// in DIR for inspection. Bad flags exit 2 with a message naming the flag.
import { LATENCY_PROFILES } from './apiserver/latency.ts';
import { parseCredentials, startCluster, type StartClusterOptions } from './cluster.ts';

const USAGE =
  'usage: kube-sim --state-dir DIR [--latency zero|realistic] [--registry-auth USER:PASS] [--port N] [--no-kubelet]';

class UsageError extends Error {}

function parseArgs(argv: string[]): StartClusterOptions {
  const opts: Partial<StartClusterOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] ?? '';
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--state-dir':
        opts.stateDir = value();
        break;
      case '--latency': {
        const v = value();
        if (!LATENCY_PROFILES[v]) throw new UsageError(`--latency must be one of ${Object.keys(LATENCY_PROFILES).join(', ')} (got "${v}")`);
        opts.latency = v;
        break;
      }
      case '--registry-auth': {
        const v = value();
        const creds = parseCredentials(v);
        if (!creds) throw new UsageError('--registry-auth must be USER:PASS');
        opts.registryAuth = creds;
        break;
      }
      case '--port': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a port number (got "${v}")`);
        opts.port = n;
        break;
      }
      case '--no-kubelet':
        if (inline !== undefined) throw new UsageError('--no-kubelet takes no value');
        opts.kubeletFactory = null;
        break;
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new UsageError(raw.startsWith('-') ? `unknown flag ${flag}` : `unexpected argument "${raw}"`);
    }
  }
  if (!opts.stateDir) throw new UsageError('--state-dir is required');
  return opts as StartClusterOptions;
}

async function main(): Promise<void> {
  let options: StartClusterOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`kube-sim: ${err.message}\n${USAGE}`);
      process.exit(2);
    }
    throw err;
  }
  let stopping = false;
  const running: { stop?: () => Promise<void> } = {};
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`kube-sim: ${signal} again, exiting without cleanup`);
      process.exit(1);
    }
    stopping = true;
    console.error(`kube-sim: ${signal}, stopping`);
    if (!running.stop) return; // still starting: main() stops the cluster once it is up
    void (async () => {
      try {
        await running.stop?.();
        process.exit(0);
      } catch (err) {
        console.error('kube-sim: cleanup failed:', err);
        process.exit(1);
      }
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const cluster = await startCluster(options);
  running.stop = () => cluster.stop();
  if (stopping) {
    // a signal came while starting
    await cluster.stop();
    process.exit(0);
  }
  const latency = cluster.latency();
  console.log(
    `kube-sim ready: kubeconfig=${cluster.kubeconfigPath} registry=${cluster.registry?.host ?? '-'} server=${cluster.server} audit=${cluster.stateDir}/audit.jsonl latency=${latency.apiRequestMs === 0 && latency.schedulingMs === 0 ? 'zero' : 'realistic'}`,
  );
}

main().catch((err: unknown) => {
  console.error('kube-sim: failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
