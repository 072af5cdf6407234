// What a running build knows: artifacts by name, step results by plan id, and local vars
// (`((.:name))` from load_var, across and get metadata). Scopes nest for across sub-steps and
// image fetches, which see their parent's artifacts but keep their own additions apart.
import type { Artifact } from '../model/artifact.ts';
import type { PlanId } from '../model/plan.ts';

export class RunState {
  private readonly artifacts = new Map<string, Artifact>();
  private readonly results = new Map<PlanId, unknown>();
  private readonly vars = new Map<string, unknown>();

  constructor(private readonly parent?: RunState) {}

  child(): RunState {
    return new RunState(this);
  }

  registerArtifact(name: string, artifact: Artifact): void {
    this.artifacts.set(name, artifact);
  }

  artifact(name: string): Artifact | undefined {
    return this.artifacts.get(name) ?? this.parent?.artifact(name);
  }

  artifactNames(): string[] {
    const names = new Set(this.parent?.artifactNames() ?? []);
    for (const name of this.artifacts.keys()) names.add(name);
    return [...names];
  }

  /** Results are build-wide: a put's implicit get reads the put's result by plan id. */
  storeResult(id: PlanId, value: unknown): void {
    if (this.parent) this.parent.storeResult(id, value);
    else this.results.set(id, value);
  }

  result<T>(id: PlanId): T | undefined {
    if (this.parent) return this.parent.result<T>(id);
    return this.results.get(id) as T | undefined;
  }

  /** Every step result of the build. */
  allResults(): unknown[] {
    if (this.parent) return this.parent.allResults();
    return [...this.results.values()];
  }

  setLocalVar(name: string, value: unknown): void {
    this.vars.set(name, value);
  }

  localVar(name: string): unknown {
    return this.vars.has(name) ? this.vars.get(name) : this.parent?.localVar(name);
  }

  hasLocalVar(name: string): boolean {
    return this.vars.has(name) || (this.parent?.hasLocalVar(name) ?? false);
  }
}
