import { type GrpcOptions, Transport } from '@nestjs/microservices';
import {
  PROTO_LOADER_OPTIONS,
  WORKER_LINK_PACKAGE,
  WORKER_LINK_PROTO,
  protoRoot,
} from '@marquee/contracts/proto';

/** Options for `app.connectMicroservice`: the worker link on `0.0.0.0:<port>`. */
export function grpcServerOptions(port: number): GrpcOptions {
  const root = protoRoot();
  return {
    transport: Transport.GRPC,
    options: {
      url: `0.0.0.0:${port}`,
      package: WORKER_LINK_PACKAGE,
      protoPath: WORKER_LINK_PROTO,
      loader: {
        ...PROTO_LOADER_OPTIONS,
        longs: Number,
        enums: String,
        includeDirs: [root],
      } as NonNullable<GrpcOptions['options']['loader']>,
      keepalive: {
        keepaliveTimeMs: 10_000,
        keepaliveTimeoutMs: 5_000,
        keepalivePermitWithoutCalls: 1,
      },
    },
  };
}
