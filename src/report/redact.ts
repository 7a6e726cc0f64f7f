// Report hygiene: no stack traces in a report's messages.

/** Reports never carry stack traces: drop `    at fn (file:line)` frames an error message may have picked up. */
export function cleanMessage(s: string | undefined): string {
  if (!s) return '';
  // Only whole frame lines go; other line breaks are kept exactly (the CSV round trip preserves them).
  return s.replace(/(?:\r\n|\r|\n)[ \t]+at [^\r\n]*/g, '').trimEnd();
}
