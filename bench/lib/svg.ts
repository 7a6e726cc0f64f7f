// A dependency-free SVG line chart: rows completed over time, one line per contender.

export interface Series {
  label: string;
  /** Completion times in ms, any order. */
  times: number[];
}

const COLORS = ['#1b7f3b', '#2f6fdf', '#d9822b', '#b8312f', '#7a4fbf', '#666666'];

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export function lineChart(title: string, series: Series[], opts: { boundMs?: number; width?: number; height?: number } = {}): string {
  const W = opts.width ?? 860;
  const H = opts.height ?? 440;
  const m = { l: 60, r: 230, t: 40, b: 50 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const maxT = Math.max(1000, ...series.flatMap((s) => s.times), opts.boundMs ?? 0);
  const maxY = Math.max(1, ...series.map((s) => s.times.length));
  const x = (t: number) => m.l + (t / maxT) * pw;
  const y = (n: number) => m.t + ph - (n / maxY) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`);
  // Axes and grid.
  const stepS = Math.max(1, Math.ceil(maxT / 1000 / 10));
  for (let s = 0; s * 1000 <= maxT; s += stepS) {
    parts.push(`<line x1="${x(s * 1000)}" y1="${m.t}" x2="${x(s * 1000)}" y2="${m.t + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${x(s * 1000)}" y="${m.t + ph + 16}" text-anchor="middle">${s}s</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const n = Math.round((maxY * i) / 4);
    parts.push(`<line x1="${m.l}" y1="${y(n)}" x2="${m.l + pw}" y2="${y(n)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y(n) + 4}" text-anchor="end">${n}</text>`);
  }
  parts.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">time since start</text>`);
  parts.push(`<text x="16" y="${m.t + ph / 2}" transform="rotate(-90 16 ${m.t + ph / 2})" text-anchor="middle">rows completed</text>`);
  if (opts.boundMs) {
    parts.push(`<line x1="${x(opts.boundMs)}" y1="${m.t}" x2="${x(opts.boundMs)}" y2="${m.t + ph}" stroke="#999" stroke-dasharray="5,4"/>`);
    parts.push(`<text x="${x(opts.boundMs) + 4}" y="${m.t + 12}" fill="#666">bound B</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const ts = [...s.times].sort((a, b) => a - b);
    const pts = ['0,' + y(0).toFixed(1), ...ts.map((t, k) => `${x(t).toFixed(1)},${y(k + 1).toFixed(1)}`)];
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    const ly = m.t + 10 + i * 20;
    parts.push(`<line x1="${m.l + pw + 16}" y1="${ly}" x2="${m.l + pw + 36}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${m.l + pw + 42}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export interface RatioSeries {
  label: string;
  /** Completion times in ms, any order. */
  times: number[];
  /** The scenario's bound B in ms: the x axis is time / B. */
  boundMs: number;
  /** Rows in the scenario: the y axis is the share done. */
  total: number;
  dashed?: boolean;
  /** Series with the same group share a colour (e.g. one scenario before and after). */
  group?: number;
}

/** Share of rows completed against time in units of each scenario's bound B, so short and long batches share one chart. */
export function ratioChart(title: string, series: RatioSeries[], opts: { width?: number; height?: number; maxX?: number } = {}): string {
  const W = opts.width ?? 860;
  const H = opts.height ?? 440;
  const m = { l: 60, r: 300, t: 40, b: 50 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const maxX = opts.maxX ?? Math.max(2, Math.ceil(Math.max(...series.flatMap((s) => s.times.map((t) => t / s.boundMs)))));
  const x = (v: number) => m.l + (Math.min(v, maxX) / maxX) * pw;
  const y = (share: number) => m.t + ph - share * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`);
  const step = maxX <= 4 ? 0.5 : Math.ceil(maxX / 8);
  for (let v = 0; v <= maxX + 1e-9; v += step) {
    parts.push(`<line x1="${x(v)}" y1="${m.t}" x2="${x(v)}" y2="${m.t + ph}" stroke="${v === 1 ? '#999' : '#eee'}"${v === 1 ? ' stroke-dasharray="5,4"' : ''}/>`);
    parts.push(`<text x="${x(v)}" y="${m.t + ph + 16}" text-anchor="middle">${v}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    parts.push(`<line x1="${m.l}" y1="${y(i / 4)}" x2="${m.l + pw}" y2="${y(i / 4)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y(i / 4) + 4}" text-anchor="end">${i * 25}%</text>`);
  }
  parts.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">time since start, in units of the bound B (rows per region / limit)</text>`);
  parts.push(`<text x="16" y="${m.t + ph / 2}" transform="rotate(-90 16 ${m.t + ph / 2})" text-anchor="middle">rows completed</text>`);
  parts.push(`<text x="${x(1) + 4}" y="${m.t + 12}" fill="#666">B</text>`);
  series.forEach((s, i) => {
    const color = COLORS[(s.group ?? i) % COLORS.length]!;
    const ts = [...s.times].sort((a, b) => a - b);
    const pts = ['0,' + y(0).toFixed(1), ...ts.map((t, k) => `${x(t / s.boundMs).toFixed(1)},${y((k + 1) / s.total).toFixed(1)}`)];
    const dash = s.dashed ? ' stroke-dasharray="6,4"' : '';
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
    const ly = m.t + 10 + i * 20;
    parts.push(`<line x1="${m.l + pw + 16}" y1="${ly}" x2="${m.l + pw + 36}" y2="${ly}" stroke="${color}" stroke-width="3"${dash}/>`);
    parts.push(`<text x="${m.l + pw + 42}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
