import { Module } from '@nestjs/common';
import { ConsoleAssets } from './console-assets';
import { ConsoleController } from './console.controller';

/** The ops console at /console (see README.md here). */
@Module({
  controllers: [ConsoleController],
  providers: [ConsoleAssets],
})
export class ConsoleModule {}
