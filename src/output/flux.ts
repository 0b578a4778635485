// Text for `flux`: the objects as one YAML stream, ready for `kubectl apply -f -` (the canonical
// writer quotes every string a YAML 1.1 reader such as kubectl's would read as something else).
import type { FluxResult } from '../core/flux.ts';
import { stringifyCanonical } from '../policy/yaml.ts';

export function fluxText(r: FluxResult): string {
  return r.items.map((item) => `---\n${stringifyCanonical(item)}`).join('');
}
