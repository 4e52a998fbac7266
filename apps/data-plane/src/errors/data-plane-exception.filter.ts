import {
  Catch,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import { sendNonDomainError, type ErrorBody } from '@platform/http';
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
      return HttpStatus.BAD_REQUEST;
    case DataPlaneErrorCode.TenantNotReady:
    case DataPlaneErrorCode.TenantUnavailable:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case DataPlaneErrorCode.Unauthenticated:
    case DataPlaneErrorCode.InvalidCredentials:
      return HttpStatus.UNAUTHORIZED;
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
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof DataPlaneException) {
      if (exception.retryAfterSeconds !== undefined) {
        response.setHeader('Retry-After', String(exception.retryAfterSeconds));
      }
      const body: ErrorBody = { error: exception.code, message: exception.message };
      response.status(statusFor(exception.code)).json(body);
      return;
    }
    sendNonDomainError(exception, response, this.logger);
  }
}
