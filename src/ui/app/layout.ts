// The pipeline page's layout, as Concourse draws the pipeline: jobs in columns by `passed`
// depth. A job none of whose inputs has a `passed` constraint is in column 0; any other job sits
// one column right of the rightmost job it depends on. Pure (no DOM).

export interface JobNode {
  name: string;
  /** optional: a job summary (atc.JobSummary) leaves an empty list out */
  inputs?: readonly { passed?: readonly string[] }[];
}

/** Each job's column, by name. Unknown `passed` jobs are ignored; a cycle is cut where it closes. */
export function jobColumnIndex(jobs: readonly JobNode[]): Map<string, number> {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const column = new Map<string, number>();
  const visiting = new Set<string>();
  const columnOf = (name: string): number => {
    const known = column.get(name);
    if (known !== undefined) return known;
    const job = byName.get(name);
    if (!job || visiting.has(name)) return -1; // not a job here, or a cycle: no constraint
    visiting.add(name);
    let col = 0;
    for (const input of job.inputs ?? []) {
      for (const upstream of input.passed ?? []) {
        const c = columnOf(upstream);
        if (c >= 0) col = Math.max(col, c + 1);
      }
    }
    visiting.delete(name);
    column.set(name, col);
    return col;
  };
  for (const j of jobs) columnOf(j.name);
  return column;
}

/** The jobs in columns, left to right; within a column in the pipeline config's order. */
export function jobColumns<J extends JobNode>(jobs: readonly J[]): J[][] {
  const index = jobColumnIndex(jobs);
  const columns: J[][] = [];
  for (const job of jobs) {
    const c = index.get(job.name) ?? 0;
    while (columns.length <= c) columns.push([]);
    columns[c]!.push(job);
  }
  return columns;
}
