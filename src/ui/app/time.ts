// Times as the UI shows them: durations ("1m 5s") and ages ("3m ago"), from unix seconds. Pure.

/** A duration in seconds as its two largest units: "45s", "3m 12s", "1h 2m", "2d 3h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const [d, h, m, sec] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3_600), Math.floor((s % 3_600) / 60), s % 60];
  const two = (a: number, ua: string, b: number, ub: string): string => (b > 0 ? `${a}${ua} ${b}${ub}` : `${a}${ua}`);
  if (d > 0) return two(d, 'd', h, 'h');
  if (h > 0) return two(h, 'h', m, 'm');
  if (m > 0) return two(m, 'm', sec, 's');
  return `${sec}s`;
}

/** How long ago a unix time was, relative to nowMs: "just now", "12s ago", "5m ago", "3h ago", "2d ago". */
export function formatAgo(unixSeconds: number, nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000 - unixSeconds);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** How long a build ran (or has been running, until nowMs); undefined before it started. */
export function buildDuration(build: { start_time?: number; end_time?: number }, nowMs: number): string | undefined {
  if (build.start_time === undefined) return undefined;
  const end = build.end_time ?? nowMs / 1000;
  return formatDuration(end - build.start_time);
}
