import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { FileStorageShutdown, fileStorageProvider } from './file-storage.provider';
import { FilesController } from './files.controller';
import { FilesRepository } from './files.repository';
import { FilesService } from './files.service';

@Module({
  imports: [AuthModule],
  controllers: [FilesController],
  providers: [fileStorageProvider, FileStorageShutdown, FilesRepository, FilesService],
})
export class FilesModule {}
