import {
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  Put,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import type { PlanLimits } from '@platform/tenancy';
import { TenantAuthGuard } from '../auth/tenant-auth.guard';
import { CurrentUser, type TenantUser } from '../auth/tenant-user';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { CurrentLimits } from '../quotas/current-limits.decorator';
import { PageQuery } from '../common/page.query';
import {
  FileIdPipe,
  FileNamePipe,
  contentTypeViolation,
  invalidContentType,
} from './file-name.rules';
import type { FileView } from './files.repository';
import { FilesService } from './files.service';
import { readRawBody } from './raw-body.util';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * Tenant files. Viewers read; members and admins upload and delete. Downloads are always
 * attachments with the stored type and `nosniff`, and are sandboxed, so an uploaded HTML or SVG
 * file can never run as a page of the tenant's origin.
 */
@ApiTags('files')
@ApiBearerAuth()
@UseGuards(TenantAuthGuard)
@Controller('api/files')
export class FilesController {
  constructor(
    private readonly files: FilesService,
    @Inject(DATA_PLANE_CONFIG) private readonly config: DataPlaneConfig,
  ) {}

  @Get()
  async list(@Query() query: PageQuery): Promise<{ items: FileView[] }> {
    this.files.requireStorage();
    return { items: await this.files.list(query.limit, query.offset) };
  }

  /** Stores the body as the file `name` (201), or replaces the file of that name (200). */
  @Put(':name')
  @ApiConsumes('application/octet-stream', '*/*')
  @ApiForbiddenResponse({ description: 'quota_exceeded (maxStorageBytes), or a viewer' })
  @ApiPayloadTooLargeResponse({ description: 'larger than FILE_MAX_BYTES' })
  @ApiServiceUnavailableResponse({ description: 'storage_unavailable' })
  async upload(
    @Param('name', FileNamePipe) name: string,
    @CurrentUser() user: TenantUser,
    @CurrentLimits() limits: PlanLimits,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (user.role === 'viewer') {
      throw new DataPlaneException(DataPlaneErrorCode.Forbidden, 'Viewers cannot upload files');
    }
    // Everything that can refuse the upload without its bytes does so before they are read.
    this.files.requireStorage();
    const contentType = request.headers['content-type'] ?? DEFAULT_CONTENT_TYPE;
    const violation = contentTypeViolation(contentType);
    if (violation) throw invalidContentType(violation);
    const body = await readRawBody(request.raw, this.config.fileMaxBytes);
    const { file, replaced } = await this.files.upload(
      { name, contentType, body, createdBy: user.id },
      limits,
    );
    await reply.code(replaced ? HttpStatus.OK : HttpStatus.CREATED).send(file);
  }

  @Get(':id')
  async download(@Param('id', FileIdPipe) id: string, @Res() reply: FastifyReply): Promise<void> {
    const { file, body } = await this.files.download(id);
    // The file is served with exactly the type it was stored with (a Buffer gets no charset).
    await reply
      .code(HttpStatus.OK)
      .headers({
        'Content-Type': file.contentType,
        'Content-Disposition': attachment(file.name),
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'none'; sandbox",
        'Cache-Control': 'private, no-store',
      })
      .send(body);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async remove(
    @Param('id', FileIdPipe) id: string,
    @CurrentUser() user: TenantUser,
  ): Promise<void> {
    if (user.role === 'viewer') {
      throw new DataPlaneException(DataPlaneErrorCode.Forbidden, 'Viewers cannot delete files');
    }
    await this.files.remove(id);
  }
}

/**
 * RFC 6266: an ASCII fallback for old clients (anything else, quotes and backslashes become
 * `_`) and the exact name in RFC 5987 encoding.
 */
function attachment(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
