// expose-pipeline and hide-pipeline: the one pipeline field only the API writes (src/db/pipelines.ts
// owns the rest of a pipeline's row).
import type { Queryable } from './database.ts';

/** expose (public = true) / hide (public = false). */
export async function setPipelinePublic(db: Queryable, pipelineId: number, isPublic: boolean): Promise<void> {
  await db.query('UPDATE pipelines SET public = $2 WHERE id = $1', [pipelineId, isPublic]);
}
