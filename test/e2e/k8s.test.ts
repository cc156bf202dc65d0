import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { ITriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { createApiToken, loadConfig } from '@vad/config';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

/**
 * The container image (infra/docker) and the Kubernetes manifests (infra/k8s),
 * checked without a Docker daemon or a cluster: every kustomization is built
 * here (the kustomize features it uses, no more), every object is validated
 * against the Kubernetes and KEDA schemas of kubernetes-models (unknown kinds
 * and unknown fields fail), and what vad needs from them is checked against
 * the repository itself: .env.example, the API's routes and OpenAPI document,
 * the systemd units, the build output. Each check returns the problems it
 * finds; the last tests break the manifests on purpose to show that they do.
 */

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const K8S = join(REPO_ROOT, 'infra', 'k8s');
const DOCKER = join(REPO_ROOT, 'infra', 'docker');

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const clone = <T>(value: T): T => structuredClone(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

// ---------------------------------------------------------------------------
// YAML and a kustomize build
// ---------------------------------------------------------------------------

/** Every document of a YAML file, as kubectl would read it (YAML 1.1: unquoted `off` is a boolean). */
function readDocuments(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' });
  const objects: Obj[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isObj(value)) throw new Error(`${file}: a document is not an object`);
    objects.push(value);
  }
  return objects;
}

const metaOf = (object: Obj): Obj => (isObj(object.metadata) ? object.metadata : {});
const nameOf = (object: Obj): string => String(metaOf(object).name ?? '');
const idOf = (object: Obj): string =>
  `${String(object.apiVersion)}/${String(object.kind)}/${String(metaOf(object).namespace ?? '')}/${nameOf(object)}`;

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'ClusterTriggerAuthentication',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);
/** Kinds whose schema kustomize knows: strategic merge patches use their list merge keys. */
const BUILTIN_GROUPS = /^(v1|apps\/v1|batch\/v1|policy\/v1|autoscaling\/v2|networking\.k8s\.io\/v1)$/;
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

/** The pod templates of an object (where images and template labels live). */
function podTemplates(object: Obj): Obj[] {
  const spec = isObj(object.spec) ? object.spec : undefined;
  if (!spec) return [];
  if (WORKLOADS.has(String(object.kind)) && isObj(spec.template)) return [spec.template];
  if (object.kind === 'CronJob' && isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec)) {
    const template = spec.jobTemplate.spec.template;
    return isObj(template) ? [template] : [];
  }
  return [];
}

function containersOf(template: Obj): Obj[] {
  const spec = isObj(template.spec) ? template.spec : {};
  return [...asArray(spec.containers), ...asArray(spec.initContainers)].filter(isObj);
}

/** image → name, tag, digest (a registry port is part of the name). */
function splitImage(image: string): { name: string; tag: string; digest: string } {
  let rest = image;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}

/** Merge keys of the Kubernetes lists a strategic merge patch may touch here. */
function mergeKey(field: string, path: readonly string[]): string | undefined {
  const keys: Record<string, string> = {
    containers: 'name',
    initContainers: 'name',
    env: 'name',
    volumes: 'name',
    volumeMounts: 'mountPath',
    volumeDevices: 'devicePath',
    imagePullSecrets: 'name',
    hostAliases: 'ip',
    topologySpreadConstraints: 'topologyKey',
  };
  if (field === 'ports')
    return path.includes('containers') || path.includes('initContainers') ? 'containerPort' : 'port';
  return keys[field];
}

/**
 * A strategic merge patch as kustomize applies it: maps merged, null deletes,
 * lists with a merge key merged by it (the patch's items first, in its order,
 * then the others), other lists replaced. On a custom resource (no schema)
 * kustomize guesses list keys: this builder refuses to patch its lists instead.
 */
function strategicMerge(target: unknown, patch: unknown, path: readonly string[], builtin: boolean): unknown {
  if (patch === null) return undefined;
  if (isObj(patch)) {
    if (Object.keys(patch).some((key) => key.startsWith('$'))) {
      throw new Error(`${path.join('.')}: patch directives ($patch…) are not supported by this builder`);
    }
    const result: Obj = isObj(target) ? { ...target } : {};
    for (const [key, value] of Object.entries(patch)) {
      const merged = strategicMerge(result[key], value, [...path, key], builtin);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
    return result;
  }
  if (Array.isArray(patch) && Array.isArray(target)) {
    const field = path[path.length - 1] ?? '';
    const key = builtin ? mergeKey(field, path) : undefined;
    if (!builtin && patch.some(isObj)) {
      throw new Error(`${path.join('.')}: patching a list of a custom resource is not supported by this builder`);
    }
    if (!key) return patch;
    const keyOf = (item: unknown) => (isObj(item) ? item[key] : undefined);
    const patched = patch.map((item) => {
      const existing = target.find((t) => keyOf(t) === keyOf(item));
      return existing === undefined ? item : strategicMerge(existing, item, path, builtin);
    });
    const rest = target.filter((t) => !patch.some((item) => keyOf(item) === keyOf(t)));
    return [...patched, ...rest];
  }
  return patch;
}

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'images', 'patches']);

/**
 * Builds a kustomization the way `kubectl kustomize` does, for the features
 * vad's use (resources, namespace, labels, images, strategic merge patches
 * with a kind/name target); any other feature is refused, so a build here is
 * never quietly different from kustomize's. Transformers run in kustomize's
 * order: patches, namespace, labels, images. Returns the objects and the files read.
 */
function kustomize(dir: string, read = new Set<string>()): { objects: Obj[]; read: Set<string> } {
  const file = join(dir, 'kustomization.yaml');
  read.add(file);
  const k: unknown = parseYaml(readFileSync(file, 'utf8'), { version: '1.1' });
  if (!isObj(k)) throw new Error(`${file}: not a kustomization`);
  for (const field of Object.keys(k)) {
    if (!KUSTOMIZATION_FIELDS.has(field))
      throw new Error(`${file}: '${field}' is not supported by this test's builder`);
  }
  const objects: Obj[] = [];
  for (const resource of asArray(k.resources)) {
    const path = resolve(dir, String(resource));
    if (statSync(path).isDirectory()) objects.push(...kustomize(path, read).objects);
    else {
      read.add(path);
      objects.push(...readDocuments(path));
    }
  }
  const ids = new Set<string>();
  for (const object of objects) {
    if (ids.has(idOf(object))) throw new Error(`${file}: ${idOf(object)} is defined twice`);
    ids.add(idOf(object));
  }

  for (const entry of asArray(k.patches)) {
    if (!isObj(entry)) throw new Error(`${file}: a patch is not an object`);
    for (const field of Object.keys(entry)) {
      if (!['path', 'patch', 'target'].includes(field))
        throw new Error(`${file}: patch field '${field}' not supported`);
    }
    let patch: unknown;
    if (typeof entry.path === 'string') {
      const path = resolve(dir, entry.path);
      read.add(path);
      patch = parseYaml(readFileSync(path, 'utf8'), { version: '1.1' });
    } else patch = parseYaml(String(entry.patch), { version: '1.1' });
    if (!isObj(patch)) throw new Error(`${file}: only strategic merge patches are supported (not JSON 6902)`);
    const target = isObj(entry.target) ? entry.target : { kind: patch.kind, name: nameOf(patch) };
    for (const field of Object.keys(target)) {
      if (!['kind', 'name'].includes(field)) throw new Error(`${file}: patch target '${field}' not supported`);
    }
    const matches = objects.filter((o) => o.kind === target.kind && nameOf(o) === target.name);
    if (matches.length === 0)
      throw new Error(`${file}: patch target ${String(target.kind)}/${String(target.name)} not found`);
    for (const object of matches) {
      const builtin = BUILTIN_GROUPS.test(String(object.apiVersion));
      const merged = strategicMerge(object, patch, [], builtin) as Obj;
      // The patch names its target; the target keeps its identity.
      merged.apiVersion = object.apiVersion;
      merged.kind = object.kind;
      merged.metadata = { ...metaOf(merged), name: nameOf(object) };
      if (metaOf(object).namespace !== undefined) (merged.metadata as Obj).namespace = metaOf(object).namespace;
      objects.splice(objects.indexOf(object), 1, merged);
    }
  }

  if (k.namespace !== undefined) {
    for (const object of objects) {
      if (!CLUSTER_SCOPED.has(String(object.kind))) object.metadata = { ...metaOf(object), namespace: k.namespace };
    }
  }

  for (const entry of asArray(k.labels)) {
    if (!isObj(entry) || !isObj(entry.pairs)) throw new Error(`${file}: labels need pairs`);
    if (entry.includeSelectors === true || entry.fields !== undefined) {
      throw new Error(`${file}: labels with includeSelectors or fields are not supported by this builder`);
    }
    const pairs = entry.pairs;
    for (const object of objects) {
      const meta = metaOf(object);
      object.metadata = { ...meta, labels: { ...(isObj(meta.labels) ? meta.labels : {}), ...pairs } };
      if (entry.includeTemplates !== true) continue;
      for (const template of podTemplates(object)) {
        const tmeta = isObj(template.metadata) ? template.metadata : {};
        template.metadata = { ...tmeta, labels: { ...(isObj(tmeta.labels) ? tmeta.labels : {}), ...pairs } };
      }
    }
  }

  for (const entry of asArray(k.images)) {
    if (!isObj(entry)) throw new Error(`${file}: an image entry is not an object`);
    for (const container of objects.flatMap(podTemplates).flatMap(containersOf)) {
      if (typeof container.image !== 'string') continue;
      const image = splitImage(container.image);
      if (image.name !== entry.name) continue;
      if (typeof entry.newName === 'string') image.name = entry.newName;
      if (entry.newTag !== undefined) {
        image.tag = String(entry.newTag);
        image.digest = '';
      }
      if (typeof entry.digest === 'string') {
        image.digest = entry.digest;
        image.tag = '';
      }
      container.image = `${image.name}${image.tag ? `:${image.tag}` : ''}${image.digest ? `@${image.digest}` : ''}`;
    }
  }
  return { objects, read };
}

/** Every folder under infra/k8s with a kustomization.yaml. */
function kustomizations(dir = K8S): string[] {
  const found: string[] = [];
  if (existsSync(join(dir, 'kustomization.yaml'))) found.push(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...kustomizations(join(dir, entry.name)));
  }
  return found;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? yamlFiles(join(dir, entry.name)) : /\.ya?ml$/.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

// ---------------------------------------------------------------------------
// Schemas: kubernetes-models (Kubernetes) and @kubernetes-models/keda
// ---------------------------------------------------------------------------

/** The module of an apiVersion/kind in kubernetes-models or its KEDA package; undefined for any other group. */
function modelModule(apiVersion: string, kind: string): string | undefined {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  if (apiVersion === 'v1') return `kubernetes-models/v1/${kind}`;
  const [group, version, extra] = apiVersion.split('/');
  if (!group || !version || extra !== undefined || !/^[a-z0-9.-]+$/.test(`${group}${version}`)) return undefined;
  if (group === 'keda.sh') return `@kubernetes-models/keda/keda.sh/${version}/${kind}`;
  if (group.endsWith('.sh')) return undefined;
  return `kubernetes-models/${group}/${version}/${kind}`;
}

type ModelClass = { apiVersion?: unknown; kind?: unknown; new (data: unknown): { validate(): void } };

/** Validates an object with the kubernetes-models class of its apiVersion/kind; an unknown kind is a problem. */
async function schemaProblems(object: Obj): Promise<string[]> {
  const apiVersion = String(object.apiVersion);
  const kind = String(object.kind);
  const where = `${kind}/${nameOf(object)}`;
  const spec = modelModule(apiVersion, kind);
  let model: ModelClass | undefined;
  if (spec) {
    try {
      const loaded: Obj = await import(spec);
      const candidate = loaded[kind];
      if (typeof candidate === 'function') {
        const cls = candidate as ModelClass;
        if (cls.kind === kind && cls.apiVersion === apiVersion) model = cls;
      }
    } catch {
      model = undefined;
    }
  }
  if (!model) return [`${where}: unknown kind ${apiVersion} ${kind} (no Kubernetes or KEDA schema)`];
  try {
    new model(object).validate();
  } catch (error) {
    return [`${where}: ${error instanceof Error ? error.message : String(error)}`];
  }
  return [...unknownFields(object, modelDeclaration(spec ?? ''), where)];
}

const NODE_MODULES = [join(REPO_ROOT, 'test', 'node_modules'), join(REPO_ROOT, 'node_modules')];

/** The .d.ts of a kubernetes-models module specifier. */
function modelDeclaration(spec: string): string | undefined {
  for (const base of NODE_MODULES) {
    const file = join(base, `${spec}.d.ts`);
    if (existsSync(file)) return file;
  }
  return undefined;
}

interface FieldType {
  container: 'one' | 'array' | 'map';
  /** The .d.ts of the interface its values follow; undefined for scalars, unions, inline types. */
  declaration: string | undefined;
}

const declarations = new Map<string, Map<string, FieldType> | null>();

/**
 * The fields of the interface declared in a kubernetes-models .d.ts, read
 * from the file: the schemas' validators do not refuse unknown fields, and
 * the API server does (kubectl's field validation is strict), so a typo such
 * as `livenessProbee` must fail here too. null: the file declares a type
 * alias (a quantity, an int-or-string), not an interface.
 */
function fieldsOf(file: string): Map<string, FieldType> | null {
  const cached = declarations.get(file);
  if (cached !== undefined) return cached;
  const text = readFileSync(file, 'utf8');
  const imports = new Map<string, string | undefined>();
  for (const match of text.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
    const from = match[2] ?? '';
    const target = from.startsWith('.')
      ? resolve(dirname(file), from.replace(/\.js$/, '.d.ts'))
      : modelDeclaration(from.replace(/\.js$/, ''));
    for (const name of (match[1] ?? '').split(',')) imports.set(name.trim(), target);
  }
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '');
  const start = code.search(/export interface \w+[^{]*\{/);
  if (start < 0) {
    declarations.set(file, null);
    return null;
  }
  const open = code.indexOf('{', start);
  let depth = 0;
  let close = open;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '{') depth++;
    else if (code[i] === '}' && --depth === 0) {
      close = i;
      break;
    }
  }
  const members: string[] = [];
  let current = '';
  depth = 0;
  for (const ch of code.slice(open + 1, close)) {
    if ('{<('.includes(ch)) depth++;
    if ('}>)'.includes(ch)) depth--;
    if (ch === ';' && depth === 0) {
      members.push(current.trim());
      current = '';
    } else current += ch;
  }
  const refOf = (type: string) => (/^I[A-Z]\w*$/.test(type) ? imports.get(type) : undefined);
  const fields = new Map<string, FieldType>();
  for (const member of members) {
    const match = /^"?([^"?:\s]+)"?\??:\s*([\s\S]+)$/.exec(member);
    if (!match?.[1] || !match[2]) continue;
    const type = match[2]
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/ \| null$/, '');
    const array = /^Array<(.+)>$/.exec(type);
    const map = /^\{ \[key: string\]: (.+?);? \}$/.exec(type);
    if (array?.[1]) fields.set(match[1], { container: 'array', declaration: refOf(array[1]) });
    else if (map?.[1]) fields.set(match[1], { container: 'map', declaration: refOf(map[1]) });
    else fields.set(match[1], { container: 'one', declaration: refOf(type) });
  }
  declarations.set(file, fields);
  return fields;
}

function unknownFields(value: unknown, declaration: string | undefined, path: string): string[] {
  if (!declaration || !isObj(value)) return [];
  const fields = fieldsOf(declaration);
  if (!fields) return [];
  const problems: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const field = fields.get(key);
    if (!field) {
      problems.push(`${path}.${key}: unknown field`);
      continue;
    }
    if (field.container === 'array') {
      asArray(child).forEach((item, i) => {
        problems.push(...unknownFields(item, field.declaration, `${path}.${key}[${i}]`));
      });
    } else if (field.container === 'map' && isObj(child)) {
      for (const [name, item] of Object.entries(child)) {
        problems.push(...unknownFields(item, field.declaration, `${path}.${key}.${name}`));
      }
    } else problems.push(...unknownFields(child, field.declaration, `${path}.${key}`));
  }
  return problems;
}

// ---------------------------------------------------------------------------
// What vad needs from the manifests
// ---------------------------------------------------------------------------

/** Role → the Deployment's component label and the image's role command (infra/docker/entrypoint.sh). */
const ROLES = {
  api: 'api',
  ingest: 'ingest-worker',
  embed: 'embed-worker',
  aggregate: 'aggregate-worker',
  scheduler: 'scheduler',
} as const;
type Role = keyof typeof ROLES;

const ENV_NAMES = [...readFileSync(join(REPO_ROOT, '.env.example'), 'utf8').matchAll(/^(VAD_[A-Z0-9_]+)=/gm)].map(
  (m) => m[1] ?? '',
);
/** Variables that hold credentials or keys: they belong in the Secret. */
const SECRET_NAME = /(_URL|TOKENS?|SECRET|PASSWORD)$/;

const ofKind = <T>(objects: Obj[], kind: string): T[] => objects.filter((o) => o.kind === kind) as unknown as T[];

function deploymentOf(objects: Obj[], role: Role): IDeployment | undefined {
  return ofKind<IDeployment>(objects, 'Deployment').find((d) =>
    d.spec?.template.spec?.containers.some((c) => c.args?.[0] === ROLES[role]),
  );
}

function mainContainer(deployment: IDeployment | undefined): IContainer | undefined {
  return deployment?.spec?.template.spec?.containers[0];
}

/** A container's variables as the pod gets them: envFrom ConfigMap and Secret, then env (values from elsewhere: '1'). */
function containerEnv(objects: Obj[], container: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const map = ofKind<IConfigMap>(objects, 'ConfigMap').find((c) => c.metadata?.name === from.configMapRef?.name);
      Object.assign(env, map?.data ?? {});
    }
    if (from.secretRef) {
      Object.assign(
        env,
        secretData(ofKind<ISecret>(objects, 'Secret').find((s) => s.metadata?.name === from.secretRef?.name)),
      );
    }
  }
  for (const variable of container.env ?? []) env[variable.name] = variable.value ?? '1';
  return env;
}

function secretData(secret: ISecret | undefined): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret?.data ?? {})) data[key] = Buffer.from(value, 'base64').toString();
  return { ...data, ...(secret?.stringData ?? {}) };
}

/** Sample values of the right form for the Secret template's placeholders (CHANGE-ME). */
const SAMPLE_SECRETS: Record<string, string> = {
  VAD_API_TOKENS: createApiToken('keda', 'read').entry,
  VAD_DATABASE_URL: 'postgres://vad:secret@postgres:5432/vad',
  VAD_REDIS_URL: 'redis://redis:6379',
  VAD_SESSION_SECRET: 'x'.repeat(32),
};
const withSamples = (env: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).map(([key, value]) => [
      key,
      value.includes('CHANGE-ME') ? (SAMPLE_SECRETS[key] ?? value) : value,
    ]),
  );

function rolesProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const deployments = ofKind<IDeployment>(objects, 'Deployment');
  for (const role of Object.keys(ROLES) as Role[]) {
    const found = deployments.filter((d) => d.spec?.template.spec?.containers.some((c) => c.args?.[0] === ROLES[role]));
    if (found.length !== 1) problems.push(`${found.length} Deployments run the ${role} role (want 1)`);
    const labels = found[0]?.spec?.template.metadata?.labels ?? {};
    if (found[0] && labels['app.kubernetes.io/component'] !== role) {
      problems.push(`${found[0].metadata?.name}: pod label app.kubernetes.io/component is not ${role}`);
    }
  }
  const images = new Set(
    deployments
      .flatMap((d) => [...(d.spec?.template.spec?.containers ?? []), ...(d.spec?.template.spec?.initContainers ?? [])])
      .map((c) => c.image),
  );
  if (images.size !== 1)
    problems.push(`containers run ${images.size} images (want the one image): ${[...images].join(', ')}`);
  for (const image of images) {
    if (!image || splitImage(image).name.split('/').pop() !== 'vad') problems.push(`image ${image} is not vad's`);
  }
  return problems;
}

function configProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const deployments = ofKind<IDeployment>(objects, 'Deployment');
  const maps = new Set<string>();
  const secrets = new Set<string>();
  for (const d of deployments) {
    for (const c of d.spec?.template.spec?.containers ?? []) {
      const from = c.envFrom ?? [];
      const map = from.find((f) => f.configMapRef)?.configMapRef?.name;
      const secret = from.find((f) => f.secretRef)?.secretRef?.name;
      if (!map || !secret) problems.push(`${d.metadata?.name}/${c.name}: envFrom needs the ConfigMap and the Secret`);
      if (map) maps.add(map);
      if (secret) secrets.add(secret);
      for (const variable of c.env ?? []) {
        if (variable.name.startsWith('VAD_') && !ENV_NAMES.includes(variable.name)) {
          problems.push(`${d.metadata?.name}/${c.name}: ${variable.name} is not a variable of .env.example`);
        }
      }
      const env = withSamples(containerEnv(objects, c));
      try {
        loadConfig({ env, envFile: false, cwd: '/opt/vad' });
      } catch (error) {
        problems.push(`${d.metadata?.name}/${c.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  if (maps.size !== 1 || secrets.size !== 1) {
    problems.push(`every role should read one ConfigMap and one Secret, not ${[...maps]} / ${[...secrets]}`);
    return problems;
  }
  const configMap = ofKind<IConfigMap>(objects, 'ConfigMap').find((c) => c.metadata?.name === [...maps][0]);
  const secret = ofKind<ISecret>(objects, 'Secret').find((s) => s.metadata?.name === [...secrets][0]);
  if (!configMap || !secret) return [...problems, 'the ConfigMap or the Secret the roles read is missing'];
  const mapKeys = Object.keys(configMap.data ?? {});
  const secretKeys = Object.keys(secretData(secret));
  const both = mapKeys.filter((key) => secretKeys.includes(key));
  if (both.length > 0) problems.push(`in both the ConfigMap and the Secret: ${both.join(', ')}`);
  const all = new Set([...mapKeys, ...secretKeys]);
  const missing = ENV_NAMES.filter((name) => !all.has(name));
  const extra = [...all].filter((name) => !ENV_NAMES.includes(name));
  if (missing.length > 0) problems.push(`variables of .env.example missing: ${missing.join(', ')}`);
  if (extra.length > 0) problems.push(`variables not in .env.example: ${extra.join(', ')}`);
  const exposed = mapKeys.filter((key) => SECRET_NAME.test(key));
  if (exposed.length > 0) problems.push(`secrets in the ConfigMap: ${exposed.join(', ')}`);
  return problems;
}

/** The container port a probe or a Service targets (a number, or a port's name). */
function portNumber(container: IContainer | undefined, port: unknown): number | undefined {
  if (typeof port === 'number') return port;
  return container?.ports?.find((p) => p.name === port)?.containerPort;
}

function probesProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const deployment = deploymentOf(objects, 'api');
  const api = mainContainer(deployment);
  if (!deployment || !api) return ['no API Deployment'];
  const env = containerEnv(objects, api);
  const port = Number(env.VAD_API_PORT ?? '3000');
  if (!['0.0.0.0', '::'].includes(env.VAD_API_HOST ?? '')) {
    problems.push(`VAD_API_HOST is ${env.VAD_API_HOST}: the API would not be reachable from other pods`);
  }
  if (!api.ports?.some((p) => p.containerPort === port)) problems.push(`the API container does not expose ${port}`);
  const expectGet = (probe: IProbe | undefined, what: string, path: string) => {
    if (!probe?.httpGet) return problems.push(`the API has no ${what} (HTTP GET ${path})`);
    if (probe.httpGet.path !== path) problems.push(`the API's ${what} asks ${probe.httpGet.path}, not ${path}`);
    if (portNumber(api, probe.httpGet.port) !== port) problems.push(`the API's ${what} is not on port ${port}`);
  };
  expectGet(api.livenessProbe, 'livenessProbe', '/healthz');
  expectGet(api.readinessProbe, 'readinessProbe', '/readyz');
  if (api.startupProbe) expectGet(api.startupProbe, 'startupProbe', '/healthz');
  // The routes exist and need no token.
  const health = readFileSync(join(REPO_ROOT, 'packages/http/src/routes/health.ts'), 'utf8');
  for (const route of ['/healthz', '/readyz']) {
    if (!new RegExp(`'${route}',\\s*\\{\\s*config: \\{ access: 'public' \\}`).test(health)) {
      problems.push(`${route} is not a public route of packages/http`);
    }
  }
  const podLabels = deployment.spec?.template.metadata?.labels ?? {};
  const services = ofKind<IService>(objects, 'Service').filter((s) => {
    const selector = s.spec?.selector ?? {};
    return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  });
  if (services.length !== 1) problems.push(`${services.length} Services select the API pods (want 1)`);
  for (const s of services) {
    for (const p of s.spec?.ports ?? []) {
      if (portNumber(api, p.targetPort ?? p.port) !== port)
        problems.push(`Service ${s.metadata?.name} misses port ${port}`);
    }
  }
  // Workers serve no HTTP port: an HTTP probe there could never pass.
  for (const role of ['ingest', 'embed', 'aggregate', 'scheduler'] as const) {
    const worker = mainContainer(deploymentOf(objects, role));
    for (const probe of [worker?.livenessProbe, worker?.readinessProbe, worker?.startupProbe]) {
      if (probe && !probe.exec) problems.push(`the ${role} worker has a network probe, but workers serve no port`);
    }
    if (worker?.ports?.length) problems.push(`the ${role} worker declares ports it does not serve`);
  }
  return problems;
}

/**
 * How long a role may need to stop cleanly: what the systemd units give it
 * (TimeoutStopSec: a stop takes longer only when a running embed or
 * maintenance job does, the others are handed back at once), and at least
 * two job lock durations, the time the reconciler leaves an unchanged video
 * alone: a stop never outlasts it, so it never races the reconciler.
 */
function shutdownBudgetS(env: Record<string, string>): number {
  const units = readdirSync(join(REPO_ROOT, 'infra/systemd')).filter((f) => f.endsWith('.service'));
  const stops = units.map((u) =>
    Number(/^TimeoutStopSec=(\d+)/m.exec(readFileSync(join(REPO_ROOT, 'infra/systemd', u), 'utf8'))?.[1] ?? 0),
  );
  const lockMs = Number(env.VAD_LOCK_DURATION_MS || 60_000);
  return Math.max(...stops, (2 * lockMs) / 1000);
}

function shutdownProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  for (const d of ofKind<IDeployment>(objects, 'Deployment')) {
    const pod = d.spec?.template.spec;
    const container = pod?.containers[0];
    if (!pod || !container) continue;
    const budget = shutdownBudgetS(containerEnv(objects, container));
    const preStop = container.lifecycle?.preStop;
    const pause =
      preStop?.sleep?.seconds ?? (preStop?.exec?.command?.[0] === 'sleep' ? Number(preStop.exec.command[1]) : 0);
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    if (!(grace > budget + pause)) {
      problems.push(
        `${d.metadata?.name}: terminationGracePeriodSeconds ${grace} is not more than ${budget} s + ${pause} s`,
      );
    }
  }
  return problems;
}

function storageProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const claims = ofKind<IPersistentVolumeClaim>(objects, 'PersistentVolumeClaim');
  for (const d of ofKind<IDeployment>(objects, 'Deployment')) {
    const pod = d.spec?.template.spec;
    const container = pod?.containers[0];
    if (!pod || !container) continue;
    const volume = pod.volumes?.find((v) => v.persistentVolumeClaim);
    const claim = claims.find((c) => c.metadata?.name === volume?.persistentVolumeClaim?.claimName);
    if (!volume || !claim) {
      problems.push(`${d.metadata?.name}: no volume of a PersistentVolumeClaim of this build`);
      continue;
    }
    if (!claim.spec?.accessModes?.includes('ReadWriteMany')) {
      problems.push(`PersistentVolumeClaim ${claim.metadata?.name} is not ReadWriteMany (shared by every role)`);
    }
    const mount = container.volumeMounts?.find((m) => m.name === volume.name);
    const env = containerEnv(objects, container);
    for (const variable of ['VAD_STORAGE_DIR', 'VAD_MODEL_DIR']) {
      const dir = env[variable] ?? '';
      const rel = mount ? posix.relative(mount.mountPath, dir) : '..';
      if (!posix.isAbsolute(dir) || rel.startsWith('..') || posix.isAbsolute(rel)) {
        problems.push(`${d.metadata?.name}: ${variable}=${dir} is not on the shared volume (${mount?.mountPath})`);
      }
    }
  }
  return problems;
}

function securityProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  for (const d of ofKind<IDeployment>(objects, 'Deployment')) {
    const pod = d.spec?.template.spec;
    const name = d.metadata?.name;
    if (!pod) continue;
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${name}: runAsNonRoot is not set`);
    if (pod.securityContext?.runAsUser === 0) problems.push(`${name}: runs as root`);
    if (pod.automountServiceAccountToken !== false) problems.push(`${name}: mounts a service account token`);
    for (const c of pod.containers) {
      const sc = c.securityContext;
      if (sc?.allowPrivilegeEscalation !== false) problems.push(`${name}/${c.name}: allowPrivilegeEscalation`);
      if (sc?.readOnlyRootFilesystem !== true) problems.push(`${name}/${c.name}: root file system is writable`);
      if (!sc?.capabilities?.drop?.includes('ALL')) problems.push(`${name}/${c.name}: capabilities not dropped`);
      const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
      if (!tmp || !pod.volumes?.find((v) => v.name === tmp.name)?.emptyDir) {
        problems.push(`${name}/${c.name}: no writable /tmp (emptyDir) under a read-only root`);
      }
      if (!c.resources?.requests?.cpu || !c.resources.requests.memory || !c.resources.limits?.memory) {
        problems.push(`${name}/${c.name}: needs cpu and memory requests and a memory limit`);
      }
    }
  }
  return problems;
}

function namespaceProblems(objects: Obj[]): string[] {
  const namespaces = new Set(
    objects.filter((o) => !CLUSTER_SCOPED.has(String(o.kind))).map((o) => String(metaOf(o).namespace ?? '')),
  );
  if (namespaces.size !== 1 || namespaces.has('')) return [`objects are spread over namespaces: ${[...namespaces]}`];
  const namespace = [...namespaces][0];
  return objects.some((o) => o.kind === 'Namespace' && nameOf(o) === namespace)
    ? []
    : [`no Namespace object for ${namespace}`];
}

const OPENAPI: Obj = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/http/openapi.json'), 'utf8'));

function resolveRef(schema: unknown): Obj {
  if (isObj(schema) && typeof schema.$ref === 'string') {
    let node: unknown = OPENAPI;
    for (const part of schema.$ref.replace(/^#\//, '').split('/')) node = isObj(node) ? node[part] : undefined;
    return resolveRef(node);
  }
  return isObj(schema) ? schema : {};
}

/**
 * Where a KEDA metrics-api valueLocation (the GJSON subset `a.b`,
 * `#(field=="value")`) leads in the OpenAPI schema of an API answer: a
 * problem unless it reaches a number; `selects` collects the `field==value`
 * choices made on the way.
 */
function gjsonProblem(schema: Obj, location: string, selects: Map<string, string>): string | undefined {
  let node = schema;
  for (const segment of location.match(/#\([^)]*\)|[^.]+/g) ?? []) {
    node = resolveRef(node);
    const query = /^#\((\w+)=="([^"]*)"\)$/.exec(segment);
    if (query?.[1] && query[2] !== undefined) {
      if (node.type !== 'array') return `${location}: ${segment} applies to a list, not to ${String(node.type)}`;
      node = resolveRef(node.items);
      const field = resolveRef(isObj(node.properties) ? node.properties[query[1]] : undefined);
      if (Array.isArray(field.enum) ? !field.enum.includes(query[2]) : field.type !== 'string') {
        return `${location}: no ${query[1]} "${query[2]}" in the answer`;
      }
      selects.set(query[1], query[2]);
      continue;
    }
    const properties = isObj(node.properties) ? node.properties : {};
    if (!(segment in properties)) return `${location}: the answer has no field ${segment}`;
    node = resolveRef(properties[segment]);
  }
  return node.type === 'number' || node.type === 'integer' ? undefined : `${location}: not a number`;
}

function scalingProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const scaled = ofKind<IScaledObject>(objects, 'ScaledObject');
  const auths = ofKind<ITriggerAuthentication>(objects, 'TriggerAuthentication');
  const api = deploymentOf(objects, 'api');
  const apiContainer = mainContainer(api);
  const podLabels = api?.spec?.template.metadata?.labels ?? {};
  const service = ofKind<IService>(objects, 'Service').find((s) =>
    Object.entries(s.spec?.selector ?? {}).every(([k, v]) => podLabels[k] === v),
  );
  const namespace = service?.metadata?.namespace;
  const port = service?.spec?.ports?.[0]?.port;
  const url = `http://${service?.metadata?.name}.${namespace}.svc.cluster.local:${port}/v1/queues`;
  const answer = resolveRef(
    (((OPENAPI.paths as Obj)['/v1/queues'] as Obj).get as { responses: Record<string, Obj> }).responses['200']
      ?.content as Obj,
  );
  const schema = resolveRef((answer['application/json'] as Obj | undefined)?.schema);
  for (const role of ['ingest', 'embed'] as const) {
    const deployment = deploymentOf(objects, role);
    const target = scaled.filter((s) => s.spec.scaleTargetRef.name === deployment?.metadata?.name);
    if (!deployment || target.length !== 1) {
      problems.push(`${target.length} ScaledObjects scale the ${role} Deployment (want 1)`);
      continue;
    }
    if (deployment.spec?.replicas !== undefined) {
      problems.push(`${deployment.metadata?.name} sets replicas: every apply would undo the autoscaler`);
    }
    const so = target[0] as IScaledObject;
    const where = `ScaledObject ${so.metadata?.name}`;
    if ((so.spec.scaleTargetRef.kind ?? 'Deployment') !== 'Deployment') problems.push(`${where}: not a Deployment`);
    if ((so.spec.minReplicaCount ?? 0) < 1) {
      problems.push(`${where}: minReplicaCount < 1, but only a running worker moves delayed (held) jobs back to wait`);
    }
    const names = so.spec.triggers.map((t) => t.name ?? '');
    const formula = so.spec.advanced?.scalingModifiers?.formula ?? '';
    const variables = new Set(formula.match(/[A-Za-z_]\w*/g) ?? []);
    for (const name of names)
      if (!variables.has(name)) problems.push(`${where}: trigger ${name} is not in the formula`);
    for (const name of variables)
      if (!names.includes(name)) problems.push(`${where}: ${name} in the formula is no trigger`);
    const read = new Set<string>();
    for (const trigger of so.spec.triggers) {
      const t = `${where} trigger ${trigger.name}`;
      if (trigger.type !== 'metrics-api') problems.push(`${t}: ${trigger.type}, not metrics-api on vad's own numbers`);
      if (trigger.metadata.url !== url) problems.push(`${t}: url ${trigger.metadata.url}, not ${url}`);
      const selects = new Map<string, string>();
      const problem = gjsonProblem(schema, trigger.metadata.valueLocation ?? '', selects);
      if (problem) problems.push(`${t}: ${problem}`);
      if (selects.get('name') !== role) problems.push(`${t}: reads queue ${selects.get('name')}, not ${role}`);
      read.add((trigger.metadata.valueLocation ?? '').split('.').pop() ?? '');
      if (trigger.metadata.authMode !== 'bearer') problems.push(`${t}: /v1/queues needs a bearer token`);
      const auth = auths.find((a) => a.metadata?.name === trigger.authenticationRef?.name);
      const ref = auth?.spec?.secretTargetRef?.find((r) => r.parameter === 'token');
      const secret = ofKind<ISecret>(objects, 'Secret').find((s) => s.metadata?.name === ref?.name);
      if (!ref || !secret || !(ref.key in secretData(secret))) {
        problems.push(`${t}: no TriggerAuthentication giving a token from a Secret of this build`);
      }
    }
    for (const count of ['waiting', 'prioritized', 'active']) {
      if (!read.has(count)) problems.push(`${where}: does not count ${count} jobs`);
    }
  }
  if (!apiContainer) problems.push('no API to read the queues from');
  return problems;
}

function gpuRequests(objects: Obj[]): string[] {
  return ofKind<IDeployment>(objects, 'Deployment').flatMap((d) =>
    (d.spec?.template.spec?.containers ?? [])
      .filter((c) => c.resources?.limits?.['nvidia.com/gpu'] !== undefined)
      .map((c) => `${d.metadata?.name}/${c.name}`),
  );
}

function gpuProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const embed = mainContainer(deploymentOf(objects, 'embed'));
  const gpus = Number(embed?.resources?.limits?.['nvidia.com/gpu'] ?? 0);
  if (!(gpus >= 1)) problems.push('the embed workers request no nvidia.com/gpu');
  const env = embed ? containerEnv(objects, embed) : {};
  if (!['cuda', 'auto'].includes(env.VAD_EXECUTION_PROVIDER ?? '')) problems.push('the embed workers do not use CUDA');
  const others = gpuRequests(objects).filter(
    (c) => c !== `${deploymentOf(objects, 'embed')?.metadata?.name}/${embed?.name}`,
  );
  if (others.length > 0) problems.push(`GPUs requested by other roles: ${others.join(', ')}`);
  return problems;
}

// ---------------------------------------------------------------------------
// The image: Dockerfile, entry point, .dockerignore
// ---------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile instructions by stage (continuation lines joined, comments dropped), with ARGs before the first FROM. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    if (line.endsWith('\\')) current += `${line.slice(0, -1)} `;
    else {
      lines.push(current + line);
      current = '';
    }
  }
  if (current) lines.push(current);
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const match = /^(\w+)\s+([\s\S]*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const op = match[1].toUpperCase();
    const rest = match[2].trim();
    if (op === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      stages.push({ from: substitute(from?.[1] ?? '', args), name: from?.[2], instructions: [] });
    } else if (stages.length === 0 && op === 'ARG') {
      const eq = rest.indexOf('=');
      if (eq > 0) args.set(rest.slice(0, eq), substitute(rest.slice(eq + 1), args));
    } else stages.at(-1)?.instructions.push({ op, args: rest });
  }
  return { args, stages };
}

function substitute(text: string, args: Map<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (_, a: string | undefined, b: string | undefined) => args.get(a ?? b ?? '') ?? '',
  );
}

const runs = (stage: Stage | undefined) => (stage?.instructions ?? []).filter((i) => i.op === 'RUN').map((i) => i.args);

/** Role → entry file (relative to the repository / the image's VAD_HOME), from the entry script's case arms. */
function entryRoles(script: string): Map<string, string> {
  const roles = new Map<string, string>();
  for (const match of script.matchAll(/^\s*([a-z-]+)\)\s*exec node "\$VAD_HOME\/([^"]+)"/gm)) {
    if (match[1] && match[2]) roles.set(match[1], match[2]);
  }
  return roles;
}

/** Whether `npm run build` produces (or the repository holds) an entry file: tsc's outDir, rootDir and the source. */
function builtEntryProblem(path: string): string | undefined {
  const built = /^((?:apps|packages)\/[^/]+)\/dist\/(.+)\.js$/.exec(path);
  if (built?.[1] && built[2]) {
    const workspace = join(REPO_ROOT, built[1]);
    const tsconfig = join(workspace, 'tsconfig.build.json');
    if (!existsSync(tsconfig)) return `${path}: ${built[1]} has no tsconfig.build.json`;
    const options = (JSON.parse(readFileSync(tsconfig, 'utf8')) as { compilerOptions?: Obj }).compilerOptions ?? {};
    if (options.outDir !== 'dist' || options.rootDir !== 'src')
      return `${path}: ${built[1]} does not build src to dist`;
    const scripts = (JSON.parse(readFileSync(join(workspace, 'package.json'), 'utf8')) as { scripts?: Obj }).scripts;
    if (!String(scripts?.build ?? '').includes('tsconfig.build.json'))
      return `${path}: npm run build skips ${built[1]}`;
    if (!existsSync(join(workspace, 'src', `${built[2]}.ts`))) return `${path}: no src/${built[2]}.ts to build it from`;
    return undefined;
  }
  if (!existsSync(join(REPO_ROOT, path))) return `${path}: neither built nor in the repository`;
  // A launcher kept in the repository (apps/cli/bin/vad.js) runs the built CLI beside it.
  const launcher = readFileSync(join(REPO_ROOT, path), 'utf8');
  const target = /new URL\('(\.\.\/dist\/[^']+\.js)'/.exec(launcher)?.[1];
  if (!target) return `${path}: does not run a built file`;
  return builtEntryProblem(posix.normalize(posix.join(posix.dirname(path), target)));
}

/** A .dockerignore as Docker reads it: the last matching pattern wins; a pattern matching a folder covers its files. */
function dockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = posix.normalize(negate ? raw.slice(1) : raw).replace(/^\//, '');
    const source = pattern
      .split(/(\*\*\/?|\*|\?)/)
      .map((part) => {
        if (part === '**/') return '(?:.*/)?';
        if (part === '**') return '.*';
        if (part === '*') return '[^/]*';
        if (part === '?') return '[^/]';
        return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    if (new RegExp(`^${source}(?:/.*)?$`).test(path)) ignored = !negate;
  }
  return ignored;
}

function dockerProblems(dockerfile: string, entrypoint: string, dockerignore: string): string[] {
  const problems: string[] = [];
  const { stages } = parseDockerfile(dockerfile);
  const final = stages.at(-1);
  if (stages.length < 2 || !final) return ['not a multi-stage build'];
  if (final.from !== 'node:20-bookworm-slim')
    problems.push(`the runtime stage is ${final.from}, not node:20-bookworm-slim`);

  const build = stages.find((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
  if (!build) problems.push('no stage runs npm run build');
  const buildRuns = runs(build);
  const fullInstall = buildRuns.findIndex((r) => /\bnpm ci\b/.test(r) && !/--omit[= ]dev|--production/.test(r));
  const buildAt = buildRuns.findIndex((r) => /\bnpm run build\b/.test(r));
  if (fullInstall < 0 || fullInstall > buildAt) problems.push('the build stage does not npm ci before npm run build');
  const skip = (build?.instructions ?? []).some(
    (i) => (i.op === 'ENV' || i.op === 'RUN') && /\bONNXRUNTIME_NODE_INSTALL=skip\b/.test(i.args),
  );
  if (!skip) problems.push('the build stage does not set ONNXRUNTIME_NODE_INSTALL=skip');
  if (!/ONNXRUNTIME_NODE_INSTALL=cuda12/.test(dockerfile) || !/ARG VAD_GPU\b/.test(dockerfile)) {
    problems.push('no GPU variant: ARG VAD_GPU and ONNXRUNTIME_NODE_INSTALL=cuda12');
  }

  // Production dependencies only: node_modules comes from a stage that pruned or reinstalled without dev.
  const copies = final.instructions.filter((i) => i.op === 'COPY');
  const modules = copies.find((c) => /(^|\s)\S*node_modules\s+\S+$/.test(c.args) && /--from=/.test(c.args));
  const fromStage = stages.find((s) => s.name === /--from=(\S+)/.exec(modules?.args ?? '')?.[1]);
  const fromRuns = runs(fromStage);
  const prodAt = fromRuns.findIndex((r) => /\bnpm (ci|prune)\b[^&;]*(--omit[= ]dev|--production)/.test(r));
  if (!modules || !fromStage || prodAt < 0 || prodAt < fromRuns.findIndex((r) => /\bnpm run build\b/.test(r))) {
    problems.push('the runtime stage does not get production dependencies only (npm ci --omit=dev after the build)');
  }
  if (runs(final).some((r) => /\bnpm (ci|install)\b/.test(r) && !/--omit[= ]dev/.test(r))) {
    problems.push('the runtime stage installs dev dependencies');
  }
  if (!runs(final).some((r) => /apt-get install[^;&|]*\bffmpeg\b/.test(r))) {
    problems.push("the runtime stage does not install Debian's ffmpeg with apt-get");
  }
  const user = final.instructions
    .filter((i) => i.op === 'USER')
    .at(-1)
    ?.args.split(':')[0];
  if (!user || user === 'root' || user === '0') problems.push(`the runtime stage runs as ${user ?? 'root'}`);
  const workdir = final.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args;
  if (!workdir) problems.push('the runtime stage has no WORKDIR');
  const env = final.instructions
    .filter((i) => i.op === 'ENV')
    .map((i) => i.args)
    .join(' ');
  if (!/\bVAD_STORAGE_DIR=\/var\/lib\/vad\b/.test(env)) problems.push('VAD_STORAGE_DIR is not under /var/lib/vad');
  if (!final.instructions.some((i) => i.op === 'VOLUME' && i.args.includes('/var/lib/vad'))) {
    problems.push('/var/lib/vad is not a volume');
  }
  const entry = final.instructions.find((i) => i.op === 'ENTRYPOINT')?.args ?? '';
  const script = copies
    .find((c) => c.args.includes('infra/docker/entrypoint.sh'))
    ?.args.split(/\s+/)
    .pop();
  if (!script || !entry.includes(script)) problems.push('the ENTRYPOINT is not infra/docker/entrypoint.sh');

  // Every role the entry point accepts runs a file that `npm run build` makes and the image holds.
  const roles = entryRoles(entrypoint);
  const wanted = [...Object.values(ROLES), 'vad'];
  const missing = wanted.filter((role) => !roles.has(role));
  if (missing.length > 0) problems.push(`the entry point lacks roles: ${missing.join(', ')}`);
  const home = /VAD_HOME=\$\{VAD_HOME:-([^}]+)\}/.exec(entrypoint)?.[1];
  if (home !== workdir) problems.push(`the entry point's VAD_HOME (${home}) is not the WORKDIR (${workdir})`);
  const buildDir = build?.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '/';
  for (const [role, path] of roles) {
    const problem = builtEntryProblem(path);
    if (problem) problems.push(`role ${role}: ${problem}`);
    const copied = copies.some((c) => {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const dest = posix.resolve(workdir ?? '/', parts.at(-1) ?? '');
      return (
        /--from=/.test(c.args) &&
        parts.slice(0, -1).some((src) => {
          const rel = posix.relative(posix.resolve(buildDir, src), posix.join(buildDir, path));
          return !rel.startsWith('..') && posix.join(dest, rel) === posix.join(workdir ?? '/', path);
        })
      );
    });
    if (!copied) problems.push(`role ${role}: ${path} is not copied from the build stage into ${workdir}`);
  }
  // The systemd units start the same files.
  for (const unit of readdirSync(join(REPO_ROOT, 'infra/systemd')).filter((f) => f.endsWith('.service'))) {
    const exec = /^ExecStart=\S+ \/opt\/vad\/(\S+)/m.exec(readFileSync(join(REPO_ROOT, 'infra/systemd', unit), 'utf8'));
    if (exec?.[1] && ![...roles.values()].includes(exec[1]))
      problems.push(`${unit} starts ${exec[1]}, no role of the image`);
  }

  // The build context: sources and manifests in, installs and builds out.
  const patterns = dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const workspaces = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] })
    .workspaces;
  const manifests = workspaces.flatMap((glob) =>
    glob.endsWith('/*')
      ? readdirSync(join(REPO_ROOT, glob.slice(0, -2)))
          .map((name) => `${glob.slice(0, -2)}/${name}/package.json`)
          .filter((p) => existsSync(join(REPO_ROOT, p)))
      : [`${glob}/package.json`],
  );
  const needed = [
    'package.json',
    'package-lock.json',
    '.npmrc',
    'turbo.json',
    'tsconfig.base.json',
    'infra/docker/entrypoint.sh',
    'models/manifest.json',
    'packages/http/openapi.json',
    'apps/api/src/main.ts',
    'apps/web/index.html',
    ...manifests,
  ];
  for (const path of needed) if (dockerIgnored(patterns, path)) problems.push(`.dockerignore leaves out ${path}`);
  for (const path of [
    'node_modules/yaml/package.json',
    'apps/api/dist/main.js',
    'apps/web/dist/index.html',
    '.git/HEAD',
    '.env',
  ]) {
    if (!dockerIgnored(patterns, path)) problems.push(`.dockerignore lets ${path} into the build context`);
  }
  return problems;
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

const DIRS = kustomizations();
const builds = new Map(DIRS.map((dir) => [relative(K8S, dir), kustomize(dir)] as const));
const objectsOf = (name: string): Obj[] => clone(builds.get(name)?.objects ?? []);
const readText = (path: string) => readFileSync(path, 'utf8');
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

/** Every check of what vad needs, for one build. */
function buildProblems(objects: Obj[]): string[] {
  return [
    ...rolesProblems(objects),
    ...configProblems(objects),
    ...probesProblems(objects),
    ...shutdownProblems(objects),
    ...storageProblems(objects),
    ...securityProblems(objects),
    ...namespaceProblems(objects),
    ...scalingProblems(objects),
  ];
}

describe('infra/k8s', () => {
  it('has a base and a gpu overlay, and every file there is used by a kustomization', () => {
    expect([...builds.keys()]).toEqual(expect.arrayContaining(['base', 'gpu']));
    const used = new Set([...builds.values()].flatMap((b) => [...b.read]));
    expect(yamlFiles(K8S).filter((file) => !used.has(file))).toEqual([]);
  });

  it.each(DIRS.map((dir) => relative(K8S, dir)))(
    '%s: every object passes the Kubernetes and KEDA schemas',
    async (name) => {
      const objects = objectsOf(name);
      expect(objects.length).toBeGreaterThan(10);
      const problems = (await Promise.all(objects.map(schemaProblems))).flat();
      expect(problems).toEqual([]);
    },
  );

  it.each(DIRS.map((dir) => relative(K8S, dir)))('%s: gives vad what it needs', (name) => {
    expect(buildProblems(objectsOf(name))).toEqual([]);
  });

  it('base: CPU only; gpu: the embed workers get a GPU each and the CUDA image', () => {
    expect(gpuRequests(objectsOf('base'))).toEqual([]);
    const gpu = objectsOf('gpu');
    expect(gpuProblems(gpu)).toEqual([]);
    const image = mainContainer(deploymentOf(gpu, 'embed'))?.image ?? '';
    expect(splitImage(image).tag).toMatch(/cuda12$/);
  });

  it("the Secret template's placeholders stop vad at start instead of running with them", () => {
    const objects = objectsOf('base');
    const env = containerEnv(objects, mainContainer(deploymentOf(objects, 'api')) as IContainer);
    expect(() => loadConfig({ env, envFile: false, cwd: '/opt/vad' })).toThrow(/VAD_API_TOKENS/);
  });

  it.skipIf(!hasKubectl)('kubectl kustomize builds the same objects as this test', () => {
    for (const dir of DIRS) {
      const output = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      const theirs = parseAllDocuments(output, { version: '1.1' })
        .map((doc) => doc.toJS() as Obj)
        .filter(isObj);
      const byId = (objects: Obj[]) => Object.fromEntries(objects.map((o) => [idOf(o), o]));
      expect(byId(objectsOf(relative(K8S, dir)))).toEqual(byId(theirs));
    }
  });
});

describe('infra/docker', () => {
  const dockerfile = readText(join(DOCKER, 'Dockerfile'));
  const entrypoint = readText(join(DOCKER, 'entrypoint.sh'));
  const dockerignore = readText(join(REPO_ROOT, '.dockerignore'));

  it('multi-stage, production dependencies, ffmpeg from Debian, non-root, one entry point for every role', () => {
    expect(dockerProblems(dockerfile, entrypoint, dockerignore)).toEqual([]);
  });

  it('every Deployment runs a role of the image', () => {
    const roles = entryRoles(entrypoint);
    for (const objects of [objectsOf('base'), objectsOf('gpu')]) {
      for (const d of ofKind<IDeployment>(objects, 'Deployment')) {
        for (const c of d.spec?.template.spec?.containers ?? []) {
          expect(c.command, `${d.metadata?.name} keeps the image's ENTRYPOINT`).toBeUndefined();
          expect(roles.has(c.args?.[0] ?? ''), `${d.metadata?.name}: ${c.args}`).toBe(true);
        }
      }
    }
  });

  it('the entry script starts each role and refuses an unknown one', () => {
    const script = join(DOCKER, 'entrypoint.sh');
    const run = (...args: string[]) =>
      spawnSync('sh', [script, ...args], { encoding: 'utf8', env: { ...process.env, VAD_HOME: REPO_ROOT } });
    expect(run('help').status).toBe(0);
    const unknown = run('ingest');
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toMatch(/unknown role 'ingest'/);
    // `vad` runs the CLI (from its sources here: no build in a test run).
    const cli = run('vad', '--help');
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/Usage: vad/);
  });
});

describe('the checks fail when the manifests or the image break', () => {
  const base = () => objectsOf('base');
  const api = (objects: Obj[]) => mainContainer(deploymentOf(objects, 'api')) as IContainer;
  const dockerfile = readText(join(DOCKER, 'Dockerfile'));
  const entrypoint = readText(join(DOCKER, 'entrypoint.sh'));
  const dockerignore = readText(join(REPO_ROOT, '.dockerignore'));

  it('a missing or misdirected probe', () => {
    const objects = base();
    delete api(objects).readinessProbe;
    expect(probesProblems(objects)).toEqual(['the API has no readinessProbe (HTTP GET /readyz)']);
    const other = base();
    (api(other).livenessProbe as IProbe).httpGet = { path: '/readyz', port: 3000 };
    expect(probesProblems(other)).toEqual(["the API's livenessProbe asks /readyz, not /healthz"]);
  });

  it('an unknown kind, an unknown field, a value of the wrong type', async () => {
    expect(await schemaProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual([
      'Widget/w: unknown kind example.com/v1 Widget (no Kubernetes or KEDA schema)',
    ]);
    const objects = base();
    const deployment = deploymentOf(objects, 'api') as unknown as Obj;
    (api(objects) as unknown as Obj).livenessProbee = {};
    expect(await schemaProblems(deployment)).toEqual([
      'Deployment/vad-api.spec.template.spec.containers[0].livenessProbee: unknown field',
    ]);
    const so = ofKind<IScaledObject>(objects, 'ScaledObject')[0] as unknown as Obj;
    ((so.spec as Obj).triggers as Obj[]).push({ type: 'metrics-api', metadata: { targetValue: 1 } });
    expect((await schemaProblems(so)).join()).toMatch(/targetValue must be string/);
  });

  it('a variable missing, a secret in the ConfigMap, a bad value', () => {
    const objects = base();
    const map = ofKind<IConfigMap>(objects, 'ConfigMap')[0] as IConfigMap;
    const data = map.data as Record<string, string>;
    delete data.VAD_SAMPLE_FPS;
    data.VAD_SESSION_SECRET = 'x'.repeat(32);
    expect(configProblems(objects)).toEqual([
      'in both the ConfigMap and the Secret: VAD_SESSION_SECRET',
      'variables of .env.example missing: VAD_SAMPLE_FPS',
      'secrets in the ConfigMap: VAD_SESSION_SECRET',
    ]);
    const other = base();
    ((ofKind<IConfigMap>(other, 'ConfigMap')[0] as IConfigMap).data as Record<string, string>).VAD_SAMPLE_FPS = 'lots';
    expect(configProblems(other).join()).toMatch(/VAD_SAMPLE_FPS/);
  });

  it('a short grace period, storage that is not shared, no GPU, a scaler reading the wrong thing', () => {
    const objects = base();
    const ingest = deploymentOf(objects, 'ingest') as IDeployment;
    (ingest.spec?.template.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds = 60;
    expect(shutdownProblems(objects)).toEqual([
      'vad-ingest: terminationGracePeriodSeconds 60 is not more than 120 s + 0 s',
    ]);
    const claim = ofKind<IPersistentVolumeClaim>(objects, 'PersistentVolumeClaim')[0] as IPersistentVolumeClaim;
    (claim.spec as { accessModes?: string[] }).accessModes = ['ReadWriteOnce'];
    expect(storageProblems(objects)).toContain(
      'PersistentVolumeClaim vad-data is not ReadWriteMany (shared by every role)',
    );
    expect(gpuProblems(objects)).toContain('the embed workers request no nvidia.com/gpu');
    const so = ofKind<IScaledObject>(objects, 'ScaledObject').find(
      (s) => s.metadata?.name === 'vad-embed',
    ) as IScaledObject;
    const trigger = so.spec.triggers[0] as { metadata: Record<string, string> };
    trigger.metadata.valueLocation = 'queues.#(name=="ingest").counts.wait';
    expect(scalingProblems(objects)).toEqual([
      'ScaledObject vad-embed trigger waiting: queues.#(name=="ingest").counts.wait: the answer has no field wait',
      'ScaledObject vad-embed trigger waiting: reads queue ingest, not embed',
      'ScaledObject vad-embed: does not count waiting jobs',
    ]);
  });

  it('a root user, no ffmpeg, dev dependencies in the image, a role without a built entry file', () => {
    expect(dockerProblems(dockerfile.replace('USER 10001:10001', 'USER root'), entrypoint, dockerignore)).toEqual([
      'the runtime stage runs as root',
    ]);
    expect(dockerProblems(dockerfile.replace(/ ffmpeg tini/, ' tini'), entrypoint, dockerignore)).toEqual([
      "the runtime stage does not install Debian's ffmpeg with apt-get",
    ]);
    expect(dockerProblems(dockerfile.replace('npm ci --omit=dev', 'npm ci'), entrypoint, dockerignore)).toEqual([
      'the runtime stage does not get production dependencies only (npm ci --omit=dev after the build)',
    ]);
    const broken = entrypoint.replace('apps/scheduler/dist/main.js', 'apps/scheduler/dist/index.js');
    expect(dockerProblems(dockerfile, broken, dockerignore).join()).toMatch(
      /role scheduler: apps\/scheduler\/dist\/index\.js: no src\/index\.ts/,
    );
    expect(dockerProblems(dockerfile, entrypoint, `${dockerignore}\n**/package.json\n`).join()).toMatch(
      /\.dockerignore leaves out package\.json/,
    );
  });
});
