import {
  Catch,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import { sendNonDomainError, type ErrorBody } from '@platform/http';
import { QuotaExceededError } from '@platform/tenancy';
import { ControlPlaneErrorCode, ControlPlaneException } from './control-plane.exception';

function statusFor(code: ControlPlaneErrorCode): HttpStatus {
  switch (code) {
    case ControlPlaneErrorCode.TenantNotFound:
    case ControlPlaneErrorCode.MigrationRunNotFound:
    case ControlPlaneErrorCode.DomainNotFound:
    case ControlPlaneErrorCode.UserNotFound:
      return HttpStatus.NOT_FOUND;
    case ControlPlaneErrorCode.QuotaExceeded:
      return HttpStatus.FORBIDDEN;
    case ControlPlaneErrorCode.InvalidCredentials:
      return HttpStatus.UNAUTHORIZED;
    case ControlPlaneErrorCode.TooManyAttempts:
      return HttpStatus.TOO_MANY_REQUESTS;
    case ControlPlaneErrorCode.OperatorNotFound:
    case ControlPlaneErrorCode.ApiKeyNotFound:
      return HttpStatus.NOT_FOUND;
    case ControlPlaneErrorCode.OperatorEmailTaken:
    case ControlPlaneErrorCode.LastAdmin:
    case ControlPlaneErrorCode.OperatorRequired:
      return HttpStatus.CONFLICT;
    case ControlPlaneErrorCode.WeakPassword:
    case ControlPlaneErrorCode.CurrentPasswordWrong:
    case ControlPlaneErrorCode.InvalidApiKey:
      return HttpStatus.BAD_REQUEST;
    case ControlPlaneErrorCode.SlugTaken:
    case ControlPlaneErrorCode.HostnameTaken:
    case ControlPlaneErrorCode.InvalidTransition:
    case ControlPlaneErrorCode.TenantNotActive:
    case ControlPlaneErrorCode.UserExists:
    case ControlPlaneErrorCode.MailNotConfigured:
      return HttpStatus.CONFLICT;
    case ControlPlaneErrorCode.InvalidCustomDomain:
    case ControlPlaneErrorCode.InvalidMigrationRun:
      return HttpStatus.BAD_REQUEST;
    case ControlPlaneErrorCode.IdempotencyKeyReused:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    default: {
      const unhandled: never = code;
      throw new Error(`No HTTP status for control-plane error ${String(unhandled)}`);
    }
  }
}

@Catch()
export class ControlPlaneExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ControlPlaneExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof ControlPlaneException) {
      // An answer already on its way (a stream) cannot become an error any more.
      if (response.headersSent) return;
      const body: ErrorBody = { error: exception.code, message: exception.message };
      if (exception.retryAfterSeconds !== undefined) {
        response.setHeader('Retry-After', String(exception.retryAfterSeconds));
      }
      response.status(statusFor(exception.code)).json(body);
      return;
    }
    // A tenant's plan quota (users): the same refusal, and body, as on the data plane.
    if (exception instanceof QuotaExceededError) {
      response.status(HttpStatus.FORBIDDEN).json(exception.body());
      return;
    }
    sendNonDomainError(exception, response, this.logger);
  }
}
