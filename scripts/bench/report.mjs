// Medians per tool, the us/peer ratios, the targets, and the Markdown tables the README shows.
import { median } from './measure.mjs';

export function summarise(samples) {
  const pick = (k) => samples.map((s) => s[k]).filter((v) => v !== undefined);
  const out = {
    medianMs: Math.round(median(pick('ms'))),
    medianCpuMs: Math.round(median(pick('cpuMs'))),
    medianRssKb: Math.round(median(pick('rssKb'))),
    maxRssKb: Math.max(...pick('rssKb')),
    medianRequests: median(pick('requests')),
    load1: [Math.min(...pick('load1')), Math.max(...pick('load1'))].map((l) => Number(l.toFixed(2))),
    samples,
  };
  if (pick('apiRequests').length) out.medianApiRequests = median(pick('apiRequests'));
  return out;
}

const sec = (ms) => (ms >= 10_000 ? (ms / 1000).toFixed(1) : ms >= 1000 ? (ms / 1000).toFixed(2) : (ms / 1000).toFixed(3));
const mb = (kb) => `${Math.round(kb / 1024)}`;

function requests(t) {
  const reg = t.medianRequests;
  const api = t.medianApiRequests;
  if (api === undefined) return String(reg);
  return reg ? `${api} API + ${reg} reg.` : `${api} API`;
}

/** A bare Node script sending the same requests: the best any Node executable could do here. */
export const NODE_FLOOR = 'node floor';

/** Each target of a workload, checked: [{ what, met }]. */
export function checkTargets(w) {
  const us = w.tools.us;
  const out = [];
  const t = w.target ?? {};
  if (t.maxRatio !== undefined && w.tools[t.vs]) {
    const ratio = us.medianMs / w.tools[t.vs].medianMs;
    out.push({ what: `≤ ${t.maxRatio}× ${t.vs}`, value: Number(ratio.toFixed(2)), met: ratio <= t.maxRatio });
    const floor = w.tools[NODE_FLOOR];
    if (floor) {
      const floorRatio = floor.medianMs / w.tools[t.vs].medianMs;
      out.push({ what: `${NODE_FLOOR} ≤ ${t.maxRatio}× ${t.vs} (within reach)`, value: Number(floorRatio.toFixed(2)), met: floorRatio <= t.maxRatio });
    }
  }
  if (t.maxRequests !== undefined) out.push({ what: `≤ ${t.maxRequests} requests`, value: us.medianRequests, met: us.medianRequests <= t.maxRequests });
  if (t.maxRssMb !== undefined) out.push({ what: `< ${t.maxRssMb} MB`, value: Math.round(us.maxRssKb / 1024), met: us.maxRssKb / 1024 < t.maxRssMb });
  const floor = w.tools[NODE_FLOOR];
  if (t.maxRssMb !== undefined && floor) out.push({ what: `${NODE_FLOOR} < ${t.maxRssMb} MB`, value: Math.round(floor.maxRssKb / 1024), met: floor.maxRssKb / 1024 < t.maxRssMb });
  return out;
}

export function renderTable(results) {
  const lines = [];
  lines.push('| # | workload | policies | us (s) | peer | peer (s) | us/peer | requests us / peer | peak RSS MB us / peer | CPU s us / peer | target | met |');
  lines.push('|---|---|---:|---:|---|---:|---:|---|---|---|---|---|');
  for (const w of results.workloads) {
    const us = w.tools.us;
    const checks = checkTargets(w);
    w.checks = checks;
    const peers = Object.keys(w.tools).filter((k) => k !== 'us');
    peers.forEach((peer, i) => {
      const p = w.tools[peer];
      const ratio = (us.medianMs / p.medianMs).toFixed(2);
      const mine = i === 0 ? checks : [];
      lines.push(
        `| ${i === 0 ? w.id : ''} | ${i === 0 ? w.title : ''} | ${i === 0 ? w.policies || '' : ''} | ${i === 0 ? sec(us.medianMs) : ''} | ${peer} | ${sec(p.medianMs)} | ${ratio} | ${requests(us)} / ${requests(p)} | ${mb(us.medianRssKb)} / ${mb(p.medianRssKb)} | ${(us.medianCpuMs / 1000).toFixed(2)} / ${(p.medianCpuMs / 1000).toFixed(2)} | ${mine.map((c) => c.what).join(', ')} | ${mine.map((c) => `${c.met ? 'yes' : 'no'} (${c.value})`).join(', ')} |`,
      );
    });
  }
  const scale = results.workloads.filter((w) => w.id.startsWith('w7-'));
  if (scale.length) {
    lines.push('', '| scale | us push s | ms/policy | RSS MB | oras push s | us pull s | ms/policy | RSS MB | oras pull s |', '|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const n of [...new Set(scale.map((w) => w.policies))]) {
      const p = scale.find((w) => w.id === `w7-push-${n}`);
      const q = scale.find((w) => w.id === `w7-pull-${n}`);
      const cell = (w, tool) => (w ? sec(w.tools[tool].medianMs) : '');
      const per = (w) => (w ? (w.tools.us.medianMs / n).toFixed(2) : '');
      const rss = (w) => (w ? mb(w.tools.us.maxRssKb) : '');
      lines.push(`| ${n} | ${cell(p, 'us')} | ${per(p)} | ${rss(p)} | ${cell(p, 'oras')} | ${cell(q, 'us')} | ${per(q)} | ${rss(q)} | ${cell(q, 'oras')} |`);
    }
  }
  const m = results.machine;
  lines.push('', `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.os}, Linux ${m.kernel}; load average at the end ${m.loadAtEnd.join(' ')}. ${results.config.runs} runs per tool (alternating), medians; ${results.durationS} s in all.`);
  return `${lines.join('\n')}\n`;
}
