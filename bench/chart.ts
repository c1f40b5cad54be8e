/**
 * The latency chart as a self-contained SVG: one panel per answer size, latency (log scale) by
 * concurrency, p50 solid and p99 dashed, one colour per target.
 */
import type { OverheadCell } from "./phases/overhead.ts";

const COLOURS: Record<string, string> = { a: "#6b7280", b: "#d97706", c: "#2563eb", d: "#059669" };
const PANEL_W = 420;
const PANEL_H = 300;
const MARGIN = { left: 56, right: 16, top: 40, bottom: 44 };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let decade = 10 ** Math.floor(Math.log10(min)); decade <= max * 10; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const v = decade * m;
      if (v >= min / 1.5 && v <= max * 1.5) ticks.push(v);
    }
  }
  return ticks;
}

function panel(cells: OverheadCell[], answer: string, offsetX: number, lo: number, hi: number): string {
  const concurrencies = [...new Set(cells.map((c) => c.concurrency))].sort((a, b) => a - b);
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const x = (c: number) =>
    offsetX +
    MARGIN.left +
    (concurrencies.length === 1 ? plotW / 2 : (concurrencies.indexOf(c) * plotW) / (concurrencies.length - 1));
  const y = (ms: number) =>
    MARGIN.top + plotH - ((Math.log10(ms) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;

  const parts: string[] = [
    `<text x="${offsetX + PANEL_W / 2}" y="22" text-anchor="middle" font-weight="bold">${esc(answer === "small" ? "small answer (281 B)" : `answer with a ${answer.replace("mb", " MiB")} b64 image`)}</text>`,
  ];
  for (const tick of logTicks(lo, hi)) {
    parts.push(
      `<line x1="${offsetX + MARGIN.left}" x2="${offsetX + PANEL_W - MARGIN.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e7eb"/>`,
      `<text x="${offsetX + MARGIN.left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`,
    );
  }
  for (const c of concurrencies) {
    parts.push(`<text x="${x(c)}" y="${PANEL_H - MARGIN.bottom + 18}" text-anchor="middle">${c}</text>`);
  }
  parts.push(
    `<text x="${offsetX + MARGIN.left + plotW / 2}" y="${PANEL_H - 8}" text-anchor="middle">concurrency</text>`,
    `<text transform="translate(${offsetX + 14} ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency, ms (log)</text>`,
  );
  for (const target of [...new Set(cells.map((c) => c.target))]) {
    const series = cells.filter((c) => c.target === target).sort((a, b) => a.concurrency - b.concurrency);
    for (const [key, dash] of [
      ["p50", ""],
      ["p99", ' stroke-dasharray="5 4"'],
    ] as const) {
      const points = series.map((c) => `${x(c.concurrency).toFixed(1)},${y(c[key]).toFixed(1)}`).join(" ");
      parts.push(`<polyline points="${points}" fill="none" stroke="${COLOURS[target]}" stroke-width="2"${dash}/>`);
      for (const c of series) {
        parts.push(
          `<circle cx="${x(c.concurrency).toFixed(1)}" cy="${y(c[key]).toFixed(1)}" r="3" fill="${COLOURS[target]}"/>`,
        );
      }
    }
  }
  return parts.join("\n");
}

export function latencyChart(cells: OverheadCell[], caption: string): string {
  const answers = [...new Set(cells.map((c) => c.answer))];
  const values = cells.flatMap((c) => [c.p50, c.p99]).filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.min(...values) / 1.3;
  const hi = Math.max(...values) * 1.3;
  const width = PANEL_W * answers.length;
  const legendY = PANEL_H + 8;
  const labels = [...new Map(cells.map((c) => [c.target, c.label])).entries()];
  const legend = labels
    .map(([id, label], i) => {
      const lx = 20 + i * 200;
      return `<line x1="${lx}" x2="${lx + 24}" y1="${legendY}" y2="${legendY}" stroke="${COLOURS[id]}" stroke-width="3"/><text x="${lx + 30}" y="${legendY + 4}">(${id}) ${esc(label)}</text>`;
    })
    .join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL_H + 64}" viewBox="0 0 ${width} ${PANEL_H + 64}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...answers.map((answer, i) =>
      panel(
        cells.filter((c) => c.answer === answer),
        answer,
        i * PANEL_W,
        lo,
        hi,
      ),
    ),
    legend,
    `<text x="20" y="${PANEL_H + 34}" fill="#6b7280">solid: p50, dashed: p99 · closed loop on loopback, one workerd process</text>`,
    `<text x="20" y="${PANEL_H + 54}" fill="#6b7280">${esc(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
