// Parsing pipeline YAML while keeping positions, and mapping config paths back to file:line:col.
import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, isPair, type Document, type Node } from 'yaml';
import type { Tags, ScalarTag } from 'yaml';
import type { ConfigPath } from './steps.ts';

export type SourceDocument = { doc: Document.Parsed; lineCounter: LineCounter };
export type Position = { line: number; column: number };

// Concourse reads YAML the way go-yaml v2 does (YAML 1.1): `yes`/`no`/`on`/`off` are booleans.
// Like go-yaml v2 decoding into interface{}, timestamps stay strings and there is no
// base-60 (`1:20`), so those tags are removed from the 1.1 schema.
// go-yaml also needs a digit in a float: a lone `.` (as in `args: [.]`) is a string.
const GO_FLOAT = /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/;

export function yamlTags(tags: Tags): Tags {
  return tags
    .filter((t) => typeof t === 'string' || (t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME'))
    .map((t) =>
      typeof t !== 'string' && t.tag === 'tag:yaml.org,2002:float' && !t.format && 'test' in t && String(t.test).includes('[0-9_]*)?\\.')
        ? ({ ...(t as ScalarTag), test: GO_FLOAT } satisfies ScalarTag)
        : t,
    );
}

export function parseYaml(text: string): SourceDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    keepSourceTokens: true,
    uniqueKeys: true,
    merge: true,
    version: '1.1',
    customTags: yamlTags,
    prettyErrors: false,
  });
  return { doc, lineCounter };
}

export function positionOf(src: SourceDocument, offset: number): Position {
  const { line, col } = src.lineCounter.linePos(offset);
  return { line, column: col };
}

function keyText(node: unknown): string | undefined {
  if (isScalar(node)) return String(node.value);
  return undefined;
}

/**
 * The node at a config path (following aliases), or the nearest ancestor that exists.
 * With `key`, the key node of that entry in the map found (for unknown fields).
 */
export function nodeAt(src: SourceDocument, at: ConfigPath, key?: string): Node | undefined {
  let cur: unknown = src.doc.contents;
  let found: Node | undefined = (cur as Node | null) ?? undefined;
  const segs: (string | number)[] = key === undefined ? at : [...at, key];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] as string | number;
    if (isAlias(cur)) cur = cur.resolve(src.doc);
    let next: unknown;
    if (isSeq(cur) && typeof seg === 'number') next = cur.items[seg];
    else if (isMap(cur)) {
      const pair = cur.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (pair && key !== undefined && i === segs.length - 1) return pair.key as Node;
      // an empty value (`source:`) has no node: point at its key instead
      next = pair ? (pair.value ?? pair.key) : undefined;
    }
    if (next === undefined || next === null) break;
    cur = next;
    found = next as Node;
  }
  return found;
}

export function locate(src: SourceDocument, at: ConfigPath, key?: string): Position | undefined {
  const node = nodeAt(src, at, key);
  const start = node?.range?.[0];
  return start === undefined ? undefined : positionOf(src, start);
}
