import { Injectable } from '@nestjs/common';
import { TenantTransactionRunner, checkTenantQuota, lockTenantQuota } from '@platform/database';

/** A tenant file as its users see it: never the object key. */
export interface FileView {
  id: string;
  name: string;
  size: number;
  contentType: string;
  createdBy: string | null;
  createdAt: string;
}

export interface StoredFile extends FileView {
  objectKey: string;
}

export interface FileReservation {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly contentType: string;
  readonly objectKey: string;
  readonly createdBy: string;
}

/**
 * How long an upload may take between its reservation and its completion. Far above the S3
 * client's timeouts; past it a reservation is presumed dead (its process crashed) and stops
 * counting against the quota, and the next upload sweeps it away.
 */
const RESERVATION_TTL = `interval '15 minutes'`;

/** Bytes the tenant's files take, counting uploads in flight: what maxStorageBytes caps. */
export const STORAGE_USED_SQL = `SELECT coalesce(sum(size_bytes), 0)::text AS used FROM files
  WHERE uploaded_at IS NOT NULL OR created_at > now() - ${RESERVATION_TTL}`;

const COLUMNS = `id, name, size_bytes::float8 AS size, content_type AS "contentType",
  created_by AS "createdBy", created_at AS "createdAt"`;

/** Files of the current tenant. Table names are unqualified: search_path picks the schema. */
@Injectable()
export class FilesRepository {
  constructor(private readonly database: TenantTransactionRunner) {}

  list(limit: number, offset: number): Promise<FileView[]> {
    return this.database.query<FileView>(
      `SELECT ${COLUMNS} FROM files WHERE uploaded_at IS NOT NULL
        ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`,
      [limit, offset],
      // One plan fits every page (see ProjectsRepository.list).
      { readOnly: true, genericPlan: true },
    );
  }

  async find(id: string): Promise<StoredFile | null> {
    const [file] = await this.database.query<StoredFile>(
      `SELECT ${COLUMNS}, object_key AS "objectKey" FROM files
        WHERE id = $1 AND uploaded_at IS NOT NULL`,
      [id],
      { readOnly: true },
    );
    return file ?? null;
  }

  /**
   * Reserves the file's bytes under the tenant's storage quota (QuotaExceededError when they do
   * not fit), and returns the object keys of dead reservations it swept, for the caller to
   * delete. A file of the same name that this upload will replace does not count: after the
   * upload only one of them remains.
   */
  reserve(file: FileReservation, maxStorageBytes: number): Promise<{ sweptKeys: string[] }> {
    return this.database.run(async (tx) => {
      await checkTenantQuota(
        tx,
        'maxStorageBytes',
        maxStorageBytes,
        `SELECT (
           (${STORAGE_USED_SQL})::bigint
           - coalesce((SELECT size_bytes FROM files WHERE name = $1 AND uploaded_at IS NOT NULL), 0)
         )::text AS used`,
        [file.name],
        file.size,
      );
      // Dead reservations no longer count (see STORAGE_USED_SQL); this only tidies them away.
      const swept = await tx.query<{ object_key: string }>(
        `DELETE FROM files WHERE uploaded_at IS NULL AND created_at <= now() - ${RESERVATION_TTL}
         RETURNING object_key`,
      );
      await tx.query(
        `INSERT INTO files (id, name, size_bytes, content_type, object_key, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [file.id, file.name, file.size, file.contentType, file.objectKey, file.createdBy],
      );
      return { sweptKeys: swept.map((row) => row.object_key) };
    });
  }

  /**
   * Turns a reservation whose object is stored into the file of its name, replacing the
   * previous file of that name (whose object key is returned for deletion). Null when the
   * reservation is gone (swept as dead): then nothing changed.
   */
  complete(id: string, name: string): Promise<{ file: FileView; replacedKeys: string[] } | null> {
    return this.database
      .run(async (tx) => {
        // The quota lock also orders completions of one name: the later one replaces the
        // earlier, and the unique index on uploaded names never sees two.
        await lockTenantQuota(tx, 'maxStorageBytes');
        const replaced = await tx.query<{ object_key: string }>(
          `DELETE FROM files WHERE name = $1 AND uploaded_at IS NOT NULL AND id <> $2
           RETURNING object_key`,
          [name, id],
        );
        const [file] = await tx.query<FileView>(
          `UPDATE files SET uploaded_at = now() WHERE id = $1 AND uploaded_at IS NULL
           RETURNING ${COLUMNS}`,
          [id],
        );
        // Rolls back the replacement too: the previous file stays.
        if (!file) throw new ReservationGone();
        return { file, replacedKeys: replaced.map((row) => row.object_key) };
      })
      .catch((error: unknown) => {
        if (error instanceof ReservationGone) return null;
        throw error;
      });
  }

  /** Drops a reservation whose object could not be stored, freeing its bytes at once. */
  async release(id: string): Promise<void> {
    await this.database.query('DELETE FROM files WHERE id = $1 AND uploaded_at IS NULL', [id]);
  }

  /**
   * Deletes the file; `removeObject` runs inside the transaction, so when it fails the row
   * stays (and the file with it) rather than pointing at nothing or being left unaccounted.
   */
  remove(id: string, removeObject: (objectKey: string) => Promise<void>): Promise<boolean> {
    return this.database.run(async (tx) => {
      const [row] = await tx.query<{ object_key: string }>(
        'DELETE FROM files WHERE id = $1 AND uploaded_at IS NOT NULL RETURNING object_key',
        [id],
      );
      if (!row) return false;
      await removeObject(row.object_key);
      return true;
    });
  }
}

class ReservationGone extends Error {}
