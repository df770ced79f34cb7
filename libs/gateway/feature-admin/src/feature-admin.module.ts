import { Module } from '@nestjs/common';
import { AuthModule } from '@marquee/gateway/feature-auth';
import { AdminController } from './admin.controller';

@Module({ imports: [AuthModule], controllers: [AdminController] })
export class FeatureAdminModule {}
