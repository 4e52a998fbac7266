import type { ComposedMail } from '../outbox/welcome-mail.composer';

export interface PasswordResetMailInput {
  readonly tenantName: string;
  readonly resetUrl: string;
  readonly expiresAt: Date;
}

/** The mail with a one-time link to choose a new password (sent through the outbox). */
export function composePasswordResetMail(input: PasswordResetMailInput): ComposedMail {
  const expires = input.expiresAt.toUTCString();
  const tenantName = input.tenantName.replace(/[\r\n]+/g, ' ').slice(0, 150);
  return {
    // A tenant name with a line break would otherwise smuggle headers into the subject.
    subject: `${tenantName}: reset your password`,
    text: [
      `An operator started a password reset for your account at ${tenantName}.`,
      '',
      'Choose a new password with this one-time link:',
      input.resetUrl,
      '',
      `The link works once and expires ${expires}. If you did not expect this mail, ignore it.`,
    ].join('\n'),
    html: [
      `<p>An operator started a password reset for your account at ${escapeHtml(tenantName)}.</p>`,
      `<p><a href="${escapeHtml(input.resetUrl)}">Choose a new password</a></p>`,
      `<p>The link works once and expires ${escapeHtml(expires)}.</p>`,
    ].join('\n'),
  };
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
