// Every file of the shared corpus (../shared/corpus) through loadPolicies with validation: real
// policies load unless MANIFEST.tsv records why Kubernetes refuses them; every bad input and every
// non-policy is refused with a message naming the file and the problem.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PolicyOciError } from '../../../src/errors.ts';
import { loadPolicies } from '../../../src/policy/load.ts';
import { parseDocuments, stringifyCanonical } from '../../../src/policy/yaml.ts';
import { corpusFiles, enginePolicyFiles } from '../../support/corpus.ts';
import type { CorpusFile } from '../../support/corpus.ts';

interface Outcome {
  file: CorpusFile;
  error?: PolicyOciError;
}

async function load(file: CorpusFile): Promise<Outcome> {
  try {
    await loadPolicies([file.absolute], { validate: true });
    return { file };
  } catch (err) {
    if (!(err instanceof PolicyOciError)) throw err;
    return { file, error: err };
  }
}

/** Every line of a refusal: the message and its details. */
const text = (e: PolicyOciError) => [e.message, ...e.details].join('\n');

/**
 * Real KubeArmor policies with fields their CRD does not declare. kubectl's default (strict field
 * validation) makes the API server refuse them with `unknown field "…"`, so we refuse them too.
 */
const UNKNOWN_FIELDS: Record<string, string> = {
  'kubearmor/policies/cis/system/ksp-audit-cis-apache-tomcat-4.6.yaml': 'unknown field "spec.file.matchDirectories[0].recurive"',
  'kubearmor/policies/java/system/ksp-block-virus-eduapps-sexo.yaml': 'unknown field "spec.selector.process"',
  'kubearmor/policies/malware/system/ksp-block-linux-xorddos-trojan-process.yaml': 'unknown field "spec.process.process"',
  ...Object.fromEntries(
    [
      '10-4-10-7-cve-2022-32081', '10-6-3-cve-2022-27455', '10-6-3-cve-2022-27456', '10-6-3-cve-2022-27457',
      '10-7-cve-2022-27386', '10-7-cve-2022-32091', '10-9-cve-2022-27444', '10-9-cve-2022-27447',
      '10-9-cve-2022-27448', '10-9-cve-2022-27451', '10-9-cve-2022-27452',
    ].map((v) => [`kubearmor/policies/cve/system/ksp-block-mariadb-v-${v}.yaml`, 'unknown field "spec.selector.app"']),
  ),
};

/** Why a policy file must be refused (a fragment of the message), or undefined when it must load. */
function expectedRefusal(f: CorpusFile): string | undefined {
  if (f.notes.includes('goyaml-v3-rejects')) return 'duplicate key';
  if (f.notes.includes('crd-schema-violation')) return ': '; // checked below: INVALID_POLICY naming a field
  return UNKNOWN_FIELDS[f.path];
}

async function checkEngine(engine: 'kyverno' | 'kubearmor'): Promise<{ ok: number; refused: Record<string, number> }> {
  const files = enginePolicyFiles(engine);
  const wrong: string[] = [];
  const refused: Record<string, number> = {};
  let ok = 0;
  for (const f of files) {
    const { error } = await load(f);
    const expected = expectedRefusal(f);
    if (!error) {
      if (expected) wrong.push(`${f.path}: loaded, expected a refusal (${expected})`);
      else ok++;
      continue;
    }
    const why = f.notes.includes('goyaml-v3-rejects') ? 'duplicate keys' : f.notes.includes('crd-schema-violation') ? 'CRD schema' : 'unknown fields';
    refused[why] = (refused[why] ?? 0) + 1;
    if (!expected) wrong.push(`${f.path}: refused: ${error.message}`);
    else if (!error.message.startsWith(f.absolute) || !text(error).includes(expected)) wrong.push(`${f.path}: message ${JSON.stringify(error.message)} lacks ${JSON.stringify(expected)}`);
    else if (why === 'duplicate keys' && (error.code !== 'INVALID_INPUT' || !/:\d+:\d+: duplicate key "[^"]+"/.test(error.message))) wrong.push(`${f.path}: ${error.message}`);
    else if (why !== 'duplicate keys' && error.code !== 'INVALID_POLICY') wrong.push(`${f.path}: ${error.code} ${error.message}`);
  }
  expect(wrong).toEqual([]);
  console.log(`${engine}: ${files.length} files, ${ok} ok, ${files.length - ok} refused ${JSON.stringify(refused)}`);
  return { ok, refused };
}

describe('corpus: engine policies', () => {
  it('kyverno: every library policy and sample loads, except the one schema violation', async () => {
    expect(await checkEngine('kyverno')).toEqual({ ok: 711, refused: { 'CRD schema': 1 } });
  });

  it('kubearmor: loads all but duplicate keys, schema violations and unknown fields', async () => {
    expect(await checkEngine('kubearmor')).toEqual({
      ok: 465,
      refused: { 'duplicate keys': 12, 'CRD schema': 28, 'unknown fields': 14 },
    });
  });

  it('loads the files with explicit nulls (pruned as the API server does)', async () => {
    const nullFiles = corpusFiles().filter((f) => f.notes.includes('crd-schema-null-field'));
    expect(nullFiles).toHaveLength(19);
    for (const f of nullFiles) {
      const docs = await loadPolicies([f.absolute], { validate: true });
      expect(JSON.stringify(docs.map((d) => d.object))).not.toContain('null');
    }
  });

  it('reads tabs after values as Go does (no tab in any value)', () => {
    const tabbed = corpusFiles().filter((f) => f.notes.includes('contains-tab') && !f.path.startsWith('bad/'));
    expect(tabbed).toHaveLength(9);
    for (const f of tabbed) {
      const [doc] = parseDocuments(readFileSync(f.absolute, 'utf8'), f.path);
      expect(JSON.stringify(doc!.value)).not.toContain('\\t');
    }
  });

  it('canonical YAML round-trips every document of every policy file', () => {
    let n = 0;
    for (const f of [...enginePolicyFiles('kyverno'), ...enginePolicyFiles('kubearmor')]) {
      if (f.notes.includes('goyaml-v3-rejects')) continue;
      for (const doc of parseDocuments(readFileSync(f.absolute, 'utf8'), f.path)) {
        const again = parseDocuments(stringifyCanonical(doc.value), 'canonical.yaml');
        expect(again.map((d) => d.value), f.path).toEqual([doc.value]);
        n++;
      }
    }
    expect(n).toBe(1219);
  });
});

describe('corpus: bad inputs', () => {
  const expected: Record<string, { code: string; fragment: string }> = {
    'bad/comment-only.yaml': { code: 'INVALID_INPUT', fragment: 'comment-only.yaml: holds no document' },
    'bad/duplicate-keys.yaml': { code: 'INVALID_INPUT', fragment: 'duplicate-keys.yaml:6:3: duplicate key "name" (first at line 5)' },
    'bad/empty.yaml': { code: 'INVALID_INPUT', fragment: 'empty.yaml: holds no document' },
    'bad/huge-value-5mb.yaml': {
      code: 'INVALID_POLICY',
      fragment: "metadata.annotations: total size 5242903 bytes is above the API server's limit of 262144 bytes (256 KiB)",
    },
    'bad/json-syntax-error.json': { code: 'INVALID_INPUT', fragment: 'json-syntax-error.json:9:76: invalid JSON: expected double-quoted property name' },
    'bad/kubearmor-hostpolicy-missing-nodeselector.yaml': { code: 'INVALID_POLICY', fragment: 'spec.nodeSelector: required field missing' },
    'bad/kubearmor-policy-schema-violations.yaml': { code: 'INVALID_POLICY', fragment: 'spec.action: must be one of "Allow", "Audit", "Block" (got "block")' },
    'bad/missing-kind.yaml': { code: 'INVALID_INPUT', fragment: 'missing-kind.yaml:2: document 1: kind: required field missing' },
    'bad/missing-metadata-name.yaml': { code: 'INVALID_POLICY', fragment: 'missing-metadata-name.yaml:5: ClusterPolicy (no name): metadata.name: required field missing' },
    'bad/multi-doc-policy-and-secret.yaml': {
      code: 'INVALID_INPUT',
      fragment: 'multi-doc-policy-and-secret.yaml:25: document 2: v1/Secret ("registry-credentials") is not a policy of a known engine (kyverno, kubearmor, kubernetes, gatekeeper)',
    },
    'bad/non-policy-deployment.yaml': { code: 'INVALID_INPUT', fragment: 'apps/v1/Deployment ("nginx") is not a policy of a known engine' },
    'bad/separators-only.yaml': { code: 'INVALID_INPUT', fragment: 'separators-only.yaml: holds no document' },
    'bad/syntax-error.yaml': { code: 'INVALID_INPUT', fragment: 'syntax-error.yaml:15:7: Flow sequence in block collection must be sufficiently indented' },
    'bad/tabs-indentation.yaml': { code: 'INVALID_INPUT', fragment: 'tabs-indentation.yaml:5:1: Tabs are not allowed as indentation' },
    'bad/unknown-api-version.yaml': { code: 'INVALID_POLICY', fragment: 'kyverno.io/v9 is not a served version of ClusterPolicy (served: v1, v2beta1)' },
  };

  it('knows every bad file', () => {
    expect(corpusFiles().filter((f) => f.path.startsWith('bad/')).map((f) => f.path).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [path, want] of Object.entries(expected)) {
    it(`refuses ${path}`, async () => {
      const f = corpusFiles().find((c) => c.path === path)!;
      const { error } = await load(f);
      expect(error?.code).toBe(want.code);
      expect(error!.message.startsWith(f.absolute)).toBe(true);
      expect(text(error!)).toContain(want.fragment);
    });
  }

  it('also reports the 5 MB object as above the 1.5 MiB limit', async () => {
    const f = corpusFiles().find((c) => c.path === 'bad/huge-value-5mb.yaml')!;
    expect(text((await load(f)).error!)).toContain('the object is 5243271 bytes as JSON, above the 1572864-byte (1.5 MiB) limit');
  });
});

describe('corpus: other engines', () => {
  // (gatekeeper-library's httpsonly template continues a quoted scalar at its key's indentation:
  // YAML 1.2 forbids it, Go's reader and ours read it; goyaml-lexer.ts.)
  // Its content after a `...` (before any `---`): kubectl drops it, we refuse the file (yaml.ts).
  const AFTER_END = 'others/kubernetes-website/content/en/examples/validatingadmissionpolicy/failure-policy-ignore.yaml';

  it('reads every Gatekeeper file but one and the ValidatingAdmissionPolicy examples, not their parameter objects', async () => {
    const others = corpusFiles().filter((f) => f.path.startsWith('others/'));
    expect(others).toHaveLength(139);
    const wrong: string[] = [];
    let loaded = 0;
    let gatekeeper = 0;
    for (const f of others) {
      const { error } = await load(f);
      // The gatekeeper engine reads the library (test/unit/engines/gatekeeper.test.ts); one Assign is
      // named "k8spspfsGroup", which the API server refuses (not a DNS-1123 subdomain), and so do we.
      if (f.path.startsWith('others/gatekeeper-library/')) {
        if (f.path.endsWith('/mutation-fsGroup.yaml')) {
          if (error?.code !== 'INVALID_POLICY' || !text(error).includes('"k8spspfsGroup" must be a DNS-1123 subdomain')) wrong.push(`${f.path}: ${error ? error.message : 'loaded'}`);
        } else if (error) wrong.push(`${f.path}: ${error.message}`);
        else gatekeeper++;
        continue;
      }
      // The kubernetes engine's policies and bindings load (test/unit/engines/kubernetes.test.ts); the
      // ReplicaLimit parameter objects are a CRD of the example's own, not a policy kind.
      const vap = f.kinds.some((k) => k.startsWith('admissionregistration.k8s.io/'));
      if (vap && (!error || f.path.endsWith('/binding-with-param-prod.yaml'))) {
        loaded++;
        continue;
      }
      const want = f.path === AFTER_END ? 'content after "..." (document end) without a "---" first' : 'not a policy of a known engine (kyverno, kubearmor, kubernetes, gatekeeper)';
      if (!error || error.code !== 'INVALID_INPUT' || !error.message.startsWith(f.absolute) || !text(error).includes(want)) {
        wrong.push(`${f.path}: ${error ? error.message : 'loaded'}`);
      }
    }
    expect(gatekeeper).toBe(128);
    expect(loaded).toBe(7); // binding-with-param-prod.yaml refused (kubernetes.test.ts), as the API server does
    expect(wrong).toEqual([]);
  });
});
