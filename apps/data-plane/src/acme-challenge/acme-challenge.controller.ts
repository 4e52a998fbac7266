import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { isAcmeToken, type Http01ChallengeStore } from '@platform/acme';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { HTTP01_CHALLENGE_STORE } from './acme-challenge.tokens';

/**
 * HTTP-01 answers (RFC 8555 §8.3) for whichever hostname the CA asks about. No tenant
 * resolution: the CA validates before the custom domain is active, so the host is not yet a
 * tenant's. What it reveals is harmless — a key authorization is the token plus the account
 * key's thumbprint, and it is only found by someone who already holds the random token.
 */
@ApiExcludeController()
@Controller('.well-known/acme-challenge')
export class AcmeChallengeController {
  constructor(@Inject(HTTP01_CHALLENGE_STORE) private readonly store: Http01ChallengeStore) {}

  @Get(':token')
  @Header('Content-Type', 'text/plain')
  @Header('Cache-Control', 'no-store')
  async answer(@Param('token') token: string): Promise<string> {
    // A malformed token (`..`, slashes, oversize) never becomes a Redis key.
    const keyAuthorization = isAcmeToken(token) ? await this.store.get(token) : null;
    if (keyAuthorization === null) {
      throw new DataPlaneException(DataPlaneErrorCode.NotFound, 'No such ACME challenge');
    }
    return keyAuthorization;
  }
}
