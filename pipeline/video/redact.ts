/**
 * Removes credentials from anything that may hold a stream URL before it is
 * logged, stored or thrown: `rtsp://user:pass@host/…` becomes
 * `rtsp://***@host/…`. ffmpeg repeats the input URL in its own error messages,
 * so its stderr goes through here too.
 */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]*@/gi;
/** `user=…`/`password=…` query parameters some cameras take instead of userinfo. */
const QUERY_SECRET = /([?&](?:user(?:name)?|pass(?:word)?|pwd|token|auth)=)[^&\s'"]*/gi;

/** Named apart from the site config's `redactUrl` (one URL, keeps the user name): this one takes any text, such as ffmpeg's stderr. */
export function redactCredentials(text: string): string {
  return text.replace(USERINFO, '$1***@').replace(QUERY_SECRET, '$1***');
}

/** The URL's host and path only, for a human-readable camera label in logs. */
export function describeStream(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    // Not a URL we can take apart: show nothing of it rather than risk a secret.
    return '[unparsed stream URL]';
  }
}
