// A state location printable as it is: passwords and secret-looking query values removed.

/** `postgres://user:secret@host/db` -> `postgres://user@host/db`; unparsable URLs are shown as their scheme only. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|key|token/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return `${url.split(':')[0] ?? 'postgres'}://(unparsable URL)`;
  }
}
