import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { StorageError, type ObjectStorage } from '@platform/storage';
import { TenantContext, type PlanLimits } from '@platform/tenancy';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { FILE_STORAGE } from './file-storage.provider';
import { FilesRepository, type FileView, type StoredFile } from './files.repository';

export interface FileUpload {
  readonly name: string;
  readonly contentType: string;
  readonly body: Buffer;
  readonly createdBy: string;
}

/** The key of a tenant file's object: the tenant's prefix and the file's id, nothing a user wrote. */
export function fileObjectKey(tenantId: string, fileId: string): string {
  return `${tenantId}/files/${fileId}`;
}

/**
 * Tenant files: metadata in the tenant's schema, bytes in object storage.
 *
 * An upload reserves its bytes under the storage quota first (so two uploads at the limit
 * cannot both pass), then writes the object, then completes the reservation. Every way out
 * leaves the two stores agreeing: a failed write releases the reservation (a reservation whose
 * release also failed stops counting after its TTL); a failed completion deletes the object.
 * Neither step holds a database connection while S3 is busy with the bytes.
 */
@Injectable()
export class FilesService {
  private readonly logger = new Logger(FilesService.name);

  constructor(
    private readonly files: FilesRepository,
    @Inject(FILE_STORAGE) private readonly storage: ObjectStorage | null,
  ) {}

  /** Throws 503 storage_unavailable when STORAGE_PROVIDER=none; call before reading a body. */
  requireStorage(): ObjectStorage {
    if (!this.storage) {
      throw new DataPlaneException(
        DataPlaneErrorCode.StorageUnavailable,
        'File storage is off on this platform (STORAGE_PROVIDER=none)',
      );
    }
    return this.storage;
  }

  async upload(
    upload: FileUpload,
    limits: PlanLimits,
  ): Promise<{ file: FileView; replaced: boolean }> {
    const storage = this.requireStorage();
    const tenantId = TenantContext.current().id;
    const id = randomUUID();
    const objectKey = fileObjectKey(tenantId, id);
    const { sweptKeys } = await this.files.reserve(
      {
        id,
        name: upload.name,
        size: upload.body.length,
        contentType: upload.contentType,
        objectKey,
        createdBy: upload.createdBy,
      },
      limits.maxStorageBytes,
    );
    await this.deleteObjectsQuietly(storage, sweptKeys);
    try {
      await storage.putObject(objectKey, upload.body, {
        contentType: upload.contentType,
        metadata: { 'tenant-id': tenantId, 'file-id': id },
      });
    } catch (error) {
      await this.releaseQuietly(id);
      throw this.unavailable('stored', error);
    }
    let completed: Awaited<ReturnType<FilesRepository['complete']>>;
    try {
      completed = await this.files.complete(id, upload.name);
    } catch (error) {
      await this.deleteObjectsQuietly(storage, [objectKey]);
      await this.releaseQuietly(id);
      throw error;
    }
    if (!completed) {
      await this.deleteObjectsQuietly(storage, [objectKey]);
      throw new DataPlaneException(
        DataPlaneErrorCode.StorageUnavailable,
        'The upload took too long to complete; nothing was stored, try again',
      );
    }
    await this.deleteObjectsQuietly(storage, completed.replacedKeys);
    return { file: completed.file, replaced: completed.replacedKeys.length > 0 };
  }

  list(limit: number, offset: number): Promise<FileView[]> {
    return this.files.list(limit, offset);
  }

  async download(id: string): Promise<{ file: StoredFile; body: Buffer }> {
    const storage = this.requireStorage();
    const file = await this.files.find(id);
    if (!file) throw notFound();
    let body: Buffer | null;
    try {
      body = await storage.getObject(file.objectKey);
    } catch (error) {
      throw this.unavailable('read', error);
    }
    if (!body) {
      this.logger.error(`file ${id} has a row but no object (${file.objectKey})`);
      throw notFound();
    }
    return { file, body };
  }

  async remove(id: string): Promise<void> {
    const storage = this.requireStorage();
    let deleted: boolean;
    try {
      deleted = await this.files.remove(id, (objectKey) => storage.deleteObject(objectKey));
    } catch (error) {
      if (error instanceof StorageError) {
        throw this.unavailable('deleted', error);
      }
      throw error;
    }
    if (!deleted) throw notFound();
  }

  /** A reservation left behind stops counting after its TTL anyway: a failure is only logged. */
  private async releaseQuietly(id: string): Promise<void> {
    await this.files.release(id).catch((error: unknown) => {
      this.logger.warn(`reservation ${id} not released (expires by itself): ${describe(error)}`);
    });
  }

  /** Objects nothing points at any more: a failure only leaves an orphan behind, so it is logged. */
  private async deleteObjectsQuietly(storage: ObjectStorage, keys: readonly string[]) {
    for (const key of keys) {
      await storage.deleteObject(key).catch((error: unknown) => {
        this.logger.warn(`orphan object ${key} left in storage: ${describe(error)}`);
      });
    }
  }

  /** The storage error is logged (it names the endpoint and bucket); the client gets a 503. */
  private unavailable(action: string, error: unknown): DataPlaneException {
    this.logger.error(describe(error));
    return new DataPlaneException(
      DataPlaneErrorCode.StorageUnavailable,
      `File storage did not answer; the file was not ${action}, try again`,
    );
  }
}

function notFound(): DataPlaneException {
  return new DataPlaneException(DataPlaneErrorCode.NotFound, 'No file with this id');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
