/**
 * Progress of a long CLI run on stderr: a line rewritten in place on a terminal,
 * a line every few seconds otherwise (CI logs), nothing when quiet.
 */
export class Progress {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
  ) {}

  /** `line` may be a function: it is then formatted only when drawn (a run can report thousands of times a second). */
  update(line: string | (() => string)): void {
    if (!this.enabled) return;
    const now = Date.now();
    const interval = this.stream.isTTY ? 200 : 5000;
    if (now - this.lastDraw < interval) return;
    this.lastDraw = now;
    const text = typeof line === 'function' ? line() : line;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[K${text}`);
      this.drawn = true;
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** 1234567 -> "1,234,567", as en-US toLocaleString writes it; not that: its first call loads ICU's locale data (about 40 ms of a short run). */
export function formatCount(value: number | bigint): string {
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const magnitude = value < 0 ? -value : value;
  const text = typeof magnitude === 'bigint' || Number.isInteger(magnitude) ? String(magnitude) : String(Math.round(magnitude * 1000) / 1000);
  const [whole = '', fraction] = text.split('.');
  return `${sign}${whole.replace(/\B(?=(\d{3})+$)/g, ',')}${fraction === undefined ? '' : `.${fraction}`}`;
}
