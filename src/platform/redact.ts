// Keeps secrets out of logs and error messages: known secret values are replaced wherever they appear.

const MIN_SECRET_LENGTH = 4;

export function makeRedactor(secrets: Array<string | undefined>): (text: string) => string {
  const values = secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH);
  if (values.length === 0) return (text) => text;
  return (text) => values.reduce((out, secret) => out.split(secret).join('[REDACTED]'), text);
}

/** Remove user:password@ from URLs such as DATABASE_URL before they are shown. */
export function redactUrlCredentials(url: string): string {
  return url.replace(/\/\/[^/@\s]*@/g, '//[REDACTED]@');
}
