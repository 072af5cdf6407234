// Artifacts as the API uses them: tarballs uploaded for one-off builds (`jetway execute`; name
// '', no build until an `artifact_input` step claims them) and those a build's
// `artifact_output` steps saved. The files live in the web node's artifacts directory; a row
// names where.
import type { Queryable, Row } from './database.ts';

export interface ArtifactRecord {
  id: number;
  /** '' for an upload; the output's name for what a build saved */
  name: string;
  buildId: number | null;
  /** the team of the build, when there is one */
  buildTeamId: number | null;
  /** the tarball's path, when it has one */
  location: string | null;
  createdAt: Date;
}

interface ArtifactRow extends Row {
  id: number;
  name: string;
  build_id: number | null;
  build_team_id: number | null;
  location: string | null;
  created_at: Date;
}

const ARTIFACT_SELECT = `SELECT a.id, a.name, a.build_id, b.team_id AS build_team_id, a.location, a.created_at
  FROM artifacts a LEFT JOIN builds b ON b.id = a.build_id`;

const toArtifact = (r: ArtifactRow): ArtifactRecord => ({
  id: r.id,
  name: r.name,
  buildId: r.build_id,
  buildTeamId: r.build_team_id,
  location: r.location,
  createdAt: r.created_at,
});

export async function getArtifact(db: Queryable, id: number): Promise<ArtifactRecord | undefined> {
  const r = await db.query<ArtifactRow>(`${ARTIFACT_SELECT} WHERE a.id = $1`, [id]);
  const row = r.rows[0];
  return row ? toArtifact(row) : undefined;
}

/** The artifacts a build saved, oldest first. */
export async function listBuildArtifacts(db: Queryable, buildId: number): Promise<ArtifactRecord[]> {
  const r = await db.query<ArtifactRow>(`${ARTIFACT_SELECT} WHERE a.build_id = $1 ORDER BY a.id`, [buildId]);
  return r.rows.map(toArtifact);
}

/** Records an uploaded tarball (no name, no build yet). */
export async function saveUploadedArtifact(db: Queryable, location: string): Promise<ArtifactRecord> {
  const r = await db.query<ArtifactRow>(
    `INSERT INTO artifacts (name, location) VALUES ('', $1) RETURNING id, name, build_id, NULL::integer AS build_team_id, location, created_at`,
    [location],
  );
  return toArtifact(r.rows[0]!);
}
