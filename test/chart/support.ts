import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository root, the chart and the Kubernetes version the chart is rendered for. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CHART = join(REPO, 'charts/eatr');
export const KUBE_VERSION = '1.34.1';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program and resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      {
        cwd: options.cwd ?? REPO,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${file} failed: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

let helmPath: Promise<string> | undefined;

/**
 * The helm binary: `HELM`, else `KUBEBUILDER_ASSETS/helm`, else the one test/tools/kube-binaries.sh
 * builds (and caches) beside kube-apiserver and etcd.
 */
export function helmBinary(): Promise<string> {
  helmPath ??= (async () => {
    if (process.env.HELM) return process.env.HELM;
    if (process.env.KUBEBUILDER_ASSETS) return join(process.env.KUBEBUILDER_ASSETS, 'helm');
    const result = await run('bash', [join(REPO, 'test/tools/kube-binaries.sh')], {
      timeoutMs: 1_800_000,
    });
    const folder = result.stdout.trim().split('\n').at(-1)?.trim() ?? '';
    if (result.code !== 0 || folder === '')
      throw new Error(`test/tools/kube-binaries.sh failed:\n${result.stderr}`);
    return join(folder, 'helm');
  })();
  return helmPath;
}

export async function helm(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return run(await helmBinary(), args, env ? { env } : {});
}

/** A rendered Kubernetes object, with the template file it came from. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

export interface Rendered extends K8sObject {
  /** e.g. `templates/watcher-deployment.yaml`. */
  readonly source: string;
}

export interface RenderOptions {
  readonly values?: Record<string, unknown>;
  readonly release?: string;
  readonly namespace?: string;
  /** `--api-versions`: what the API server is taken to serve beyond helm's defaults. */
  readonly apiVersions?: readonly string[];
}

/** The capability the chart's ValidatingAdmissionPolicies need (`helm install` finds it on the server). */
export const VALIDATING_ADMISSION_POLICY =
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';

async function withValuesFile<T>(
  values: Record<string, unknown>,
  use: (path: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'eatr-chart-'));
  try {
    const path = join(dir, 'values.yaml');
    // JSON is YAML: no quoting surprises.
    await writeFile(path, JSON.stringify(values));
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function templateArgs(options: RenderOptions, valuesPath: string): string[] {
  return [
    'template',
    options.release ?? 'eatr',
    CHART,
    '--namespace',
    options.namespace ?? 'eatr-system',
    '--kube-version',
    KUBE_VERSION,
    '--values',
    valuesPath,
    ...(options.apiVersions ?? []).flatMap((v) => ['--api-versions', v]),
  ];
}

/** `helm template` output as text; throws with helm's message when rendering fails. */
export async function renderText(options: RenderOptions = {}): Promise<string> {
  return withValuesFile(options.values ?? {}, async (path) => {
    const result = await helm(templateArgs(options, path));
    if (result.code !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
    return result.stdout;
  });
}

/** Parses `helm template` output into objects, each with its template file. */
export function parseRendered(text: string): Rendered[] {
  const objects: Rendered[] = [];
  for (const chunk of text.split(/^---$/m)) {
    const value: unknown = parse(chunk);
    if (value === null || value === undefined) continue;
    if (!isObject(value)) throw new Error(`rendered document is not an object: ${chunk}`);
    const source = /^# Source: eatr\/(\S+)/m.exec(chunk)?.[1] ?? '';
    objects.push({ ...(value as unknown as K8sObject), source });
  }
  return objects;
}

/** `helm template` output as objects; throws with helm's message when rendering fails. */
export async function render(options: RenderOptions = {}): Promise<Rendered[]> {
  return parseRendered(await renderText(options));
}

/** helm's error output for values that must not render. Fails if they do render. */
export async function renderError(options: RenderOptions): Promise<string> {
  return withValuesFile(options.values ?? {}, async (path) => {
    const result = await helm(templateArgs(options, path));
    if (result.code === 0) throw new Error('helm template unexpectedly succeeded');
    return result.stderr;
  });
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a nested field: `field(obj, 'spec', 'template', 'spec')`. */
export function field(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (Array.isArray(current) && typeof key === 'number') current = current[key];
    else if (isObject(current) && typeof key === 'string') current = current[key];
    else return undefined;
  }
  return current;
}

export function find(objects: readonly Rendered[], kind: string, name: string): Rendered {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) {
    const have = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`no ${kind}/${name} rendered; have: ${have}`);
  }
  return found;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: {
    name: string;
    value?: string;
    valueFrom?: Record<string, Record<string, string>>;
  }[];
  readonly ports?: { name: string; containerPort: number }[];
  readonly securityContext?: Record<string, unknown>;
  readonly resources?: Record<string, unknown>;
  readonly livenessProbe?: Record<string, unknown>;
  readonly readinessProbe?: Record<string, unknown>;
  readonly volumeMounts?: { name: string; mountPath: string }[];
}

/** The pod spec of a Deployment or StatefulSet. */
export function podSpec(workload: K8sObject): Record<string, unknown> {
  const spec = field(workload, 'spec', 'template', 'spec');
  if (!isObject(spec))
    throw new Error(`${workload.kind}/${workload.metadata.name} has no pod spec`);
  return spec;
}

export function containers(workload: K8sObject): Container[] {
  return (podSpec(workload).containers ?? []) as Container[];
}

/** The environment of a workload's first container, as name -> value (or `secret:<name>/<key>`). */
export function envOf(workload: K8sObject): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of containers(workload)[0]?.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const fieldRef = e.valueFrom?.fieldRef;
    env.set(
      e.name,
      e.value ??
        (ref ? `secret:${ref.name ?? ''}/${ref.key ?? ''}` : `field:${fieldRef?.fieldPath ?? ''}`),
    );
  }
  return env;
}

export interface PolicyRule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

export function rulesOf(role: K8sObject): PolicyRule[] {
  return (role.rules ?? []) as PolicyRule[];
}
