// Prometheus metrics of a web node (prom-client), served at GET /metrics. A registry of its own
// per node (tests run several). Labels are low-cardinality on purpose: no pipeline, job or
// resource names (they would grow without bound, and /metrics needs no login).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BuildKind, EngineMetrics } from '../engine/engine.ts';
import type { KubeRequestObserver } from '../runtime/kubernetes/client.ts';
import type { BuildStatus } from '../model/build-events.ts';

export class Metrics implements EngineMetrics, KubeRequestObserver {
  readonly registry = new Registry();
  private readonly buildsFinished: Counter<'kind' | 'status'>;
  private readonly buildDuration: Histogram<'kind' | 'status'>;
  private readonly containersCreated: Counter<'runtime' | 'type' | 'purpose'>;
  private readonly schedulingDuration: Histogram;
  private readonly apiRequests: Counter<'method' | 'route' | 'code'>;
  private readonly kubernetesRequests: Counter<'verb' | 'resource' | 'outcome'>;
  private readonly imagesResolved: Counter<'how'>;
  private readonly checkLateness: Histogram<'how'>;

  constructor(opts: { runningBuilds?: () => number } = {}) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'jetway_' });
    this.buildsFinished = new Counter({ name: 'jetway_builds_finished_total', help: 'builds finished, by kind (job, check, one-off) and status', labelNames: ['kind', 'status'], registers });
    this.buildDuration = new Histogram({
      name: 'jetway_build_duration_seconds',
      help: 'from a build starting to it finishing',
      labelNames: ['kind', 'status'],
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.containersCreated = new Counter({
      name: 'jetway_containers_created_total',
      help: 'containers (pods on Kubernetes, processes locally) created for steps, by runtime, step type and purpose (step or image)',
      labelNames: ['runtime', 'type', 'purpose'],
      registers,
    });
    this.schedulingDuration = new Histogram({
      name: 'jetway_scheduling_duration_seconds',
      help: 'one scheduling pass over the jobs due',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.apiRequests = new Counter({ name: 'jetway_api_requests_total', help: 'API requests, by method, route pattern and status code', labelNames: ['method', 'route', 'code'], registers });
    this.kubernetesRequests = new Counter({
      name: 'jetway_kubernetes_requests_total',
      help: 'Kubernetes API request attempts (retries count), by verb, resource and outcome (ok, the HTTP status, or connection)',
      labelNames: ['verb', 'resource', 'outcome'],
      registers,
    });
    this.imagesResolved = new Counter({
      name: 'jetway_images_resolved_total',
      help: 'images of custom types and task image_resources resolved, natively (repository@digest, no pod) or through check and get containers',
      labelNames: ['how'],
      registers,
    });
    this.checkLateness = new Histogram({
      name: 'jetway_check_lateness_seconds',
      help: 'how long after it was due a periodic check started, by how it ran (in-memory, or a check build)',
      labelNames: ['how'],
      buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300],
      registers,
    });
    if (opts.runningBuilds) {
      const running = opts.runningBuilds;
      new Gauge({
        name: 'jetway_builds_running',
        help: 'builds this web node is running',
        registers,
        collect() {
          this.set(running());
        },
      });
    }
  }

  buildFinished(kind: BuildKind, status: BuildStatus, seconds: number | undefined): void {
    this.buildsFinished.inc({ kind, status });
    if (seconds !== undefined) this.buildDuration.observe({ kind, status }, seconds);
  }

  checkStarted(how: 'in-memory' | 'build', lateSeconds: number): void {
    this.checkLateness.observe({ how }, Math.max(0, lateSeconds));
  }

  containerCreated(runtime: string, type: string, purpose: string): void {
    this.containersCreated.inc({ runtime, type, purpose });
  }

  kubernetesRequest(verb: string, resource: string, outcome: string): void {
    this.kubernetesRequests.inc({ verb, resource, outcome });
  }

  imageResolved(how: 'native' | 'containers'): void {
    this.imagesResolved.inc({ how });
  }

  schedulingPass(seconds: number): void {
    this.schedulingDuration.observe(seconds);
  }

  apiRequest(method: string, route: string, code: number): void {
    this.apiRequests.inc({ method, route, code: String(code) });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
