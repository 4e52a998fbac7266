import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import type { ErrorBody } from '@platform/http';
import { CONTROL_CHARACTER } from '../common/display-text.rules';

export const FILE_NAME_MAX_LENGTH = 200;

export interface FileNameViolation {
  readonly rule: string;
  readonly message: string;
}

/**
 * What a file name must be. The name is only ever data (a column, a Content-Disposition
 * parameter): object keys are made of the tenant and file ids alone, so no name can reach
 * another key. The rules keep names displayable and unambiguous all the same.
 */
export function fileNameViolation(name: string): FileNameViolation | null {
  const length = [...name].length;
  if (length < 1 || length > FILE_NAME_MAX_LENGTH) {
    return {
      rule: 'length',
      message: `name must be 1 to ${FILE_NAME_MAX_LENGTH} characters long (it has ${length})`,
    };
  }
  if (/[/\\]/.test(name)) {
    return { rule: 'no-slash', message: 'name must not contain / or \\' };
  }
  if (CONTROL_CHARACTER.test(name)) {
    return {
      rule: 'no-control-character',
      message: 'name must not contain control characters, line breaks or bidi marks',
    };
  }
  if (name.trim() === '' || name === '.' || name === '..') {
    return { rule: 'not-blank', message: 'name must not be blank, . or ..' };
  }
  return null;
}

function invalid(field: string, violation: FileNameViolation): BadRequestException {
  const body: ErrorBody = {
    error: 'validation_failed',
    message: violation.message,
    details: [{ field, ...violation }],
  };
  return new BadRequestException(body);
}

/** `:name` of `PUT /api/files/:name`, checked against fileNameViolation. */
@Injectable()
export class FileNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const violation = fileNameViolation(value);
    if (violation) throw invalid('name', violation);
    return value;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `:id` of the other file routes: a UUID, or 400 before any query runs. */
@Injectable()
export class FileIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw invalid('id', { rule: 'uuid', message: 'id must be a UUID' });
    return value.toLowerCase();
  }
}

/**
 * `type/subtype` made of RFC 9110 token characters, then nothing or `;` and parameters. Only a
 * prefix was checked: `a/b c` was stored and echoed, while downloads sent octet-stream.
 */
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*(;.*)?$/;

/**
 * The Content-Type a file is stored and later served with. Anything a client sends is kept as
 * is, but it must survive being sent back as a header: printable ASCII only (Node refuses
 * anything else in a response header, which would surface as a 500 on download).
 */
export function contentTypeViolation(contentType: string): FileNameViolation | null {
  if (!/^[\x20-\x7e]{1,255}$/.test(contentType) || !MEDIA_TYPE.test(contentType)) {
    return {
      rule: 'content-type',
      message:
        'Content-Type must be a media type (type/subtype) in at most 255 printable ASCII characters',
    };
  }
  return null;
}

export function invalidContentType(violation: FileNameViolation): BadRequestException {
  return invalid('content-type', violation);
}
