import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { UsageController } from './usage.controller';

/** `GET /api/usage`; the checks themselves run in each feature's write (projects, files). */
@Module({
  imports: [AuthModule],
  controllers: [UsageController],
})
export class QuotasModule {}
