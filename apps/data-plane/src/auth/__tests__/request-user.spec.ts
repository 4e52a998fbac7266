import type { IncomingMessage } from 'node:http';
import type { AccessTokenService } from '../access-token.service';
import { bearerToken } from '../bearer-token';
import { requestUser } from '../request-user';
import type { TenantUser } from '../tenant-user';

const TOKEN = 'aaaaaaaaaa.bbbbbbbbbb.cccccccccc';
const user: TenantUser = { id: 'u-1', role: 'member' };

function requestWith(authorization?: string): IncomingMessage {
  return { headers: authorization === undefined ? {} : { authorization } } as IncomingMessage;
}

function tokensAnswering(answer: TenantUser | null | Promise<TenantUser | null>) {
  const verify = jest.fn((_token: string) => answer);
  return { verify, tokens: { verify } as unknown as AccessTokenService };
}

describe('requestUser', () => {
  it('verifies a request’s token once, however often it is asked', () => {
    const { verify, tokens } = tokensAnswering(user);
    const request = requestWith(`Bearer ${TOKEN}`);
    expect(requestUser(request, tokens)).toBe(user);
    expect(requestUser(request, tokens)).toBe(user);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify).toHaveBeenCalledWith(TOKEN);
  });

  it('keeps each request’s answer to itself', () => {
    const { verify, tokens } = tokensAnswering(user);
    expect(requestUser(requestWith(`Bearer ${TOKEN}`), tokens)).toBe(user);
    expect(requestUser(requestWith(`Bearer ${TOKEN}`), tokens)).toBe(user);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('remembers a refusal too, and never verifies a missing or malformed token', () => {
    const { verify, tokens } = tokensAnswering(null);
    for (const header of [undefined, 'Basic abc', 'Bearer short', `Bearer ${TOKEN} ${TOKEN}`]) {
      const request = requestWith(header);
      expect(requestUser(request, tokens)).toBeNull();
      expect(requestUser(request, tokens)).toBeNull();
    }
    expect(verify).not.toHaveBeenCalled();
  });

  it('hands both askers the same pending verification while the tenant’s keys load', async () => {
    const { verify, tokens } = tokensAnswering(Promise.resolve(user));
    const request = requestWith(`Bearer ${TOKEN}`);
    const first = requestUser(request, tokens);
    expect(requestUser(request, tokens)).toBe(first);
    await expect(first).resolves.toBe(user);
    expect(verify).toHaveBeenCalledTimes(1);
  });
});

describe('bearerToken', () => {
  it.each(['Bearer', 'bearer', 'BEARER'])('reads the %s scheme (case-insensitive)', (scheme) => {
    expect(bearerToken(`${scheme} ${TOKEN}`)).toBe(TOKEN);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', `Basic ${TOKEN}`],
    ['two spaces', `Bearer  ${TOKEN}`],
    ['a token under 10 characters', 'Bearer abc.def'],
    ['characters outside base64url and dots', `Bearer ${TOKEN}!`],
  ])('refuses %s', (_label, header) => {
    expect(bearerToken(header)).toBeNull();
  });
});
