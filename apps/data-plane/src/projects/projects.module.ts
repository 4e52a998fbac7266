import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ProjectsController } from './projects.controller';
import { ProjectsRepository } from './projects.repository';

@Module({
  imports: [AuthModule],
  controllers: [ProjectsController],
  providers: [ProjectsRepository],
})
export class ProjectsModule {}
