import { Controller, Get, NotFoundException, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { PublicRoute } from '@platform/http';
import { ConsoleAssets } from './console-assets';

/**
 * Nothing but our own files, no inline script or style, no framing: a script injected through
 * tenant data (names, audit details) would have nowhere to load from and nothing to run.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/**
 * The ops console: static files, served without credentials (they hold no data; every API call
 * the page makes is authenticated by the session cookie and checked by the guard like any
 * other). Hash routing, so `/console` is the only page.
 */
@ApiExcludeController()
@PublicRoute()
@Controller('console')
export class ConsoleController {
  constructor(private readonly assets: ConsoleAssets) {}

  @Get()
  page(@Req() request: Request, @Res() response: Response): void {
    this.send('index.html', request, response);
  }

  @Get(':asset')
  asset(@Param('asset') name: string, @Req() request: Request, @Res() response: Response): void {
    this.send(name, request, response);
  }

  private send(name: string, request: Request, response: Response): void {
    const asset = this.assets.get(name);
    if (!asset) {
      throw new NotFoundException({
        error: 'not_found',
        message: 'No such console file',
        details: [],
      });
    }
    response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    response.setHeader('X-Frame-Options', 'DENY');
    // Revalidated on every load: a deploy shows at once, an unchanged file costs a 304.
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('ETag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) {
      response.status(304).end();
      return;
    }
    response.status(200).type(asset.contentType).send(asset.body);
  }
}
