import {
  Catch,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import {
  answerJson,
  nodeResponseOf,
  sendNonDomainError,
  type AnyResponse,
  type ErrorBody,
} from '@platform/http';
import { QuotaExceededError } from '@platform/tenancy';
import { DataPlaneErrorCode, DataPlaneException } from './data-plane.exception';

function statusFor(code: DataPlaneErrorCode): HttpStatus {
  switch (code) {
    case DataPlaneErrorCode.UnknownTenant:
    case DataPlaneErrorCode.NotFound:
      return HttpStatus.NOT_FOUND;
    case DataPlaneErrorCode.TenantSuspended:
    case DataPlaneErrorCode.Forbidden:
      return HttpStatus.FORBIDDEN;
    case DataPlaneErrorCode.InvalidInvite:
    case DataPlaneErrorCode.InvalidResetToken:
      return HttpStatus.BAD_REQUEST;
    case DataPlaneErrorCode.TenantNotReady:
    case DataPlaneErrorCode.TenantUnavailable:
    case DataPlaneErrorCode.StorageUnavailable:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case DataPlaneErrorCode.Unauthenticated:
    case DataPlaneErrorCode.InvalidCredentials:
    case DataPlaneErrorCode.InvalidRefreshToken:
      return HttpStatus.UNAUTHORIZED;
    case DataPlaneErrorCode.RateLimited:
      return HttpStatus.TOO_MANY_REQUESTS;
    default: {
      const unhandled: never = code;
      throw new Error(`No HTTP status for data-plane error ${String(unhandled)}`);
    }
  }
}

/** Domain codes to HTTP; Nest's own 4xx keep their body; anything else is a bare 500. */
@Catch()
export class DataPlaneExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('DataPlaneExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<AnyResponse>();
    if (exception instanceof DataPlaneException) {
      const node = nodeResponseOf(response);
      // An answer already on its way (a stream) cannot become an error any more.
      if (node.headersSent) return;
      if (exception.retryAfterSeconds !== undefined) {
        node.setHeader('Retry-After', String(exception.retryAfterSeconds));
      }
      const body: ErrorBody = {
        error: exception.code,
        message: exception.message,
        ...(exception.details ? { details: exception.details } : {}),
      };
      answerJson(response, statusFor(exception.code), body);
      return;
    }
    if (exception instanceof QuotaExceededError) {
      answerJson(response, HttpStatus.FORBIDDEN, exception.body());
      return;
    }
    sendNonDomainError(exception, response, this.logger);
  }
}
