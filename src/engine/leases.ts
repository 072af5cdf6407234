// The engine's port for owning builds across several web nodes (issue 17, docs/web-nodes.md):
// a node runs a build only while it holds the build's lease, renews its leases with its
// heartbeat, and takes over only builds whose lease expired. Postgres implements it
// (src/db/cluster.ts's PostgresBuildLeases); without it (one node, tests) the engine owns every build.

/** A running build nobody runs any more, now claimed by this node. */
export interface OrphanedBuild {
  id: number;
  /** the node that owned it (null: none recorded) */
  previousOwner: string | null;
  /** when its lease ran out (null: it had none) */
  leaseExpired: Date | null;
}

export interface BuildLeases {
  /** this web node's name (`--node-name`) */
  readonly node: string;
  /** Takes the build for this node; false when another live node holds it. */
  claim(buildId: number): Promise<boolean>;
  /** The heartbeat: renews this node's leases; returns the builds it still owns, and those of them aborted (by any node's API). */
  heartbeat(): Promise<{ owned: number[]; aborted: number[] }>;
  /**
   * Claims the running builds nobody runs: expired leases of other nodes, and (`ownPrevious`,
   * at start-up) those this node's previous incarnation owned.
   */
  claimOrphans(ownPrevious: boolean): Promise<OrphanedBuild[]>;
  /** Gives a build up for another node to take at once (a draining node). */
  release(buildId: number): Promise<void>;
}
