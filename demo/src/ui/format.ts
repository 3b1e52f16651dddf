// Number and time formatting for the progress lines.

/** "2 min 05 s", "45 s", "1 h 03 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** "93.1 %". */
export function percent(v: number, digits = 1): string {
  return `${(100 * v).toFixed(digits)} %`;
}

/** "12.3 MB". */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** "1,234". */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
