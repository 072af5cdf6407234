// Keyset pagination, as Concourse's API pages lists: newest first, `from`/`to` name an item (by
// id) the page starts at, and each page says which ids start its neighbours. Keys are compared
// as a row, so a page holds however the list changes between requests.
import type { Queryable, Row } from './database.ts';
import { DbError } from './errors.ts';

export interface PageRequest {
  limit: number;
  /** inclusive: this item and newer ones (the page closest to it) */
  from?: number;
  /** inclusive: this item and older ones */
  to?: number;
}

export interface PageResult<R> {
  rows: R[];
  /** id to pass as `from` for the next newer page, when there are newer items */
  newer?: number;
  /** id to pass as `to` for the next older page, when there are older items */
  older?: number;
}

/** `from` or `to` names no item of the list (the API answers 400). */
export class PageAnchorNotFoundError extends DbError {
  constructor(
    readonly param: 'from' | 'to',
    readonly itemName: string,
    readonly id: number,
  ) {
    super(`${param}: ${itemName} ${id} not found`);
  }
}

export interface KeysetQuery {
  /** `FROM … WHERE …` text without ORDER BY, the same for every page */
  source: string;
  params: unknown[];
  /** SQL expressions ordering the items, newest = greatest (compared as a row) */
  key: string[];
  /** the id column (the values of from/to) */
  id: string;
  /** select list */
  select: string;
  /** what an unknown from/to id is called in the error */
  itemName: string;
}

/** Items newest first, one page of them, and the ids that start the neighbouring pages. */
export async function keysetPage<R extends Row & { id: number }>(db: Queryable, q: KeysetQuery, page: PageRequest): Promise<PageResult<R>> {
  const keyRow = `(${q.key.join(', ')})`;
  const params = [...q.params];
  const param = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const keyOf = async (id: number, name: 'from' | 'to'): Promise<string> => {
    const r = await db.query(`SELECT 1 ${q.source} AND ${q.id} = $${q.params.length + 1}`, [...q.params, id]);
    if (r.rowCount === 0) throw new PageAnchorNotFoundError(name, q.itemName, id);
    return `(SELECT ${q.key.join(', ')} ${q.source} AND ${q.id} = ${param(id)})`;
  };
  const conds: string[] = [];
  if (page.to !== undefined) conds.push(`${keyRow} <= ${await keyOf(page.to, 'to')}`);
  if (page.from !== undefined) conds.push(`${keyRow} >= ${await keyOf(page.from, 'from')}`);
  const where = conds.length > 0 ? ` AND ${conds.join(' AND ')}` : '';
  const desc = q.key.map((k) => `${k} DESC`).join(', ');
  const asc = q.key.map((k) => `${k} ASC`).join(', ');
  // one row more than the page: that row is the neighbour beyond the page's far end, found
  // without a statement of its own (a page was three statements, bench/api.ts)
  const limit = param(page.limit + 1);
  const ascending = page.from !== undefined && page.to === undefined;
  const r = await db.query<R>(`SELECT ${q.select} ${q.source}${where} ORDER BY ${ascending ? asc : desc} LIMIT ${limit}`, params);
  const extra = r.rows.length > page.limit ? r.rows[page.limit] : undefined;
  const rows = ascending ? r.rows.slice(0, page.limit).reverse() : r.rows.slice(0, page.limit);
  const result: PageResult<R> = { rows };
  const first = rows[0];
  const last = rows.at(-1);
  if (first && last) {
    const neighbour = async (op: '<' | '>', id: number): Promise<number | undefined> => {
      const values = [...q.params, id];
      const n = await db.query<{ id: number }>(
        `SELECT ${q.id} AS id ${q.source} AND ${keyRow} ${op} (SELECT ${q.key.join(', ')} ${q.source} AND ${q.id} = $${values.length})
          ORDER BY ${op === '>' ? asc : desc} LIMIT 1`,
        values,
      );
      return n.rows[0]?.id;
    };
    // newer: going up, the extra row; the first page (neither from nor to) starts at the newest
    const newer = ascending ? extra?.id : page.to !== undefined || page.from !== undefined ? await neighbour('>', first.id) : undefined;
    // older: going down, the extra row, or none when nothing bounds the page below; below `from` only a statement knows
    const older = ascending || (extra === undefined && page.from !== undefined) ? await neighbour('<', last.id) : extra?.id;
    if (newer !== undefined) result.newer = newer;
    if (older !== undefined) result.older = older;
  }
  return result;
}
