// Artifacts: what a step leaves for the steps after it. A directory the runtime made (a volume),
// or, on a runtime that boots images by reference, only an image's `repository@digest`
// (docs/image-features.md, decisions 10 and 11).

export type Artifact =
  | { kind: 'volume'; path: string; handle?: string }
  | { kind: 'image-ref'; reference: string; digest: string };
