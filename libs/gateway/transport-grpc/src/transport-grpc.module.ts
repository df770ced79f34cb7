import { Module } from '@nestjs/common';
import { RequestRegistry } from './request-registry';
import { WorkerLinkController } from './worker-link.controller';

/** The gateway's side of the worker link. Connect the gRPC microservice with {@link grpcServerOptions}. */
@Module({
  controllers: [WorkerLinkController],
  providers: [RequestRegistry],
  exports: [RequestRegistry],
})
export class TransportGrpcModule {}
