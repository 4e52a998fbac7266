import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { consoleRulesModule } from './console-rules';

export interface ConsoleAsset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * `public/` beside this file when running from source (tests, `npm run cli`); from `dist/`
 * (`npm run build` compiles TypeScript only and copies no other files) the same folder in the
 * source tree, five levels up from dist/apps/control-plane/src/console.
 */
const CANDIDATE_DIRECTORIES = [
  join(__dirname, 'public'),
  join(__dirname, '../../../../../apps/control-plane/src/console/public'),
];

/**
 * The console's files, read once at start into memory (a few dozen kilobytes). Requests are
 * answered from this map by exact name only, so no request path ever reaches the file system:
 * there is nothing to traverse.
 */
@Injectable()
export class ConsoleAssets {
  private readonly assets = new Map<string, ConsoleAsset>();

  constructor(@Inject(CONTROL_PLANE_CONFIG) config: ControlPlaneConfig) {
    const directory = CANDIDATE_DIRECTORIES.find((candidate) => existsSync(candidate));
    if (!directory) {
      throw new Error(
        `The console's files are missing (looked in ${CANDIDATE_DIRECTORIES.join(', ')})`,
      );
    }
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const contentType = CONTENT_TYPES[extname(entry.name)];
      if (entry.isFile() && contentType) {
        this.add(entry.name, readFileSync(join(directory, entry.name)), contentType);
      }
    }
    this.add(
      'rules.js',
      Buffer.from(consoleRulesModule(config.platformDomain)),
      CONTENT_TYPES['.js'],
    );
  }

  get(name: string): ConsoleAsset | null {
    return this.assets.get(name) ?? null;
  }

  private add(name: string, body: Buffer, contentType: string): void {
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    this.assets.set(name, { body, contentType, etag });
  }
}
