export interface WelcomeMailInput {
  readonly tenantName: string;
  readonly hostname: string;
  readonly inviteUrl: string;
  readonly expiresAt: Date;
}

export interface ComposedMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** The mail a tenant's admin gets: the tenant's name and the one-time link to set a password. */
export function composeWelcomeMail(input: WelcomeMailInput): ComposedMail {
  const expires = input.expiresAt.toUTCString();
  const subject = `Welcome to ${oneLine(input.tenantName)}: set your password`;
  const text = [
    `${input.tenantName} is ready at https://${input.hostname}.`,
    '',
    'Set your password with this one-time link:',
    input.inviteUrl,
    '',
    `The link works once and expires ${expires}. Ask your operator for a new one after that.`,
  ].join('\n');
  const html = [
    `<p><strong>${escapeHtml(input.tenantName)}</strong> is ready at ${escapeHtml(input.hostname)}.</p>`,
    `<p><a href="${escapeHtml(input.inviteUrl)}">Set your password</a></p>`,
    `<p>The link works once and expires ${escapeHtml(expires)}.</p>`,
  ].join('\n');
  return { subject, text, html };
}

/** A tenant name with a line break would otherwise smuggle headers into the subject. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').slice(0, 150);
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
