import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Injectable,
  Logger,
  Module,
  Post,
  UseGuards,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import {
  FastifyAdapter,
  type NestFastifyApplication,
} from '@nestjs/platform-fastify';
import type { MarqueeRequestState } from '@marquee/gateway/util-http';
import { GatewayConfig } from '@marquee/gateway/util-config';
import {
  DrainState,
  GatewayMetrics,
  loggerParams,
} from '@marquee/shared/util-observability';
import { LoggerModule, Logger as PinoNestLogger } from 'nestjs-pino';
import { GracefulShutdown } from './graceful-shutdown.service';
import { RequestContextInterceptor } from './request-context.interceptor';

const KEY = 'mq_LiveTenantKey0123456789abcdefXYZ';

@Injectable()
class FakeKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<MarqueeRequestState>();
    request.principal = { tenantId: 'tenant_42', apiKeyId: 'key_1' } as never;
    return true;
  }
}

@Controller('v1/echo')
class EchoController {
  private readonly logger = new Logger('Echo');

  @Post()
  @UseGuards(FakeKeyGuard)
  echo() {
    // A careless log line that quotes the caller's key: it must never reach the output.
    this.logger.warn(`rejected attempt with ${KEY}`);
    return { ok: true };
  }
}

describe('gateway request logging', () => {
  let app: NestFastifyApplication;
  let origin: string;
  const lines: string[] = [];

  beforeAll(async () => {
    @Module({
      imports: [
        LoggerModule.forRoot(
          loggerParams({
            service: 'gateway',
            instance: 'test',
            level: 'info',
            destination: { write: (chunk: string) => lines.push(chunk) },
          }),
        ),
      ],
      controllers: [EchoController],
      providers: [
        { provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor },
        {
          provide: GatewayConfig,
          useValue: GatewayConfig.fromEnv({
            MARQUEE_ADMIN_TOKEN: 'mqa_test_token_0123456789',
          }),
        },
        GatewayMetrics,
        DrainState,
        GracefulShutdown,
      ],
    })
    class TestAppModule {}
    app = await NestFactory.create<NestFastifyApplication>(
      TestAppModule,
      new FastifyAdapter({ genReqId: () => 'req_test123', logger: false }),
      { bufferLogs: true },
    );
    app.useLogger(app.get(PinoNestLogger));
    app.get(GracefulShutdown).install(app.getHttpAdapter().getInstance());
    await app.listen(0, '127.0.0.1');
    origin = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('writes JSON lines with request id, tenant and model, and never the key', async () => {
    const response = await fetch(`${origin}/v1/echo`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: 'marquee-tiny',
        prompt: KEY,
        user: 'end-user-7',
      }),
    });
    expect(response.status).toBe(201);
    await response.text();
    // The "request completed" line is written when the response closes.
    await new Promise((resolve) => setImmediate(resolve));

    const output = lines.join('');
    expect(output).not.toContain(KEY);
    expect(output).not.toContain('LiveTenantKey');

    const records = lines.map(
      (line) => JSON.parse(line) as Record<string, unknown>,
    );
    const warning = records.find((r) =>
      String(r.msg).startsWith('rejected attempt'),
    );
    expect(warning).toMatchObject({
      service: 'gateway',
      requestId: 'req_test123',
      tenantId: 'tenant_42',
      model: 'marquee-tiny',
      msg: 'rejected attempt with mq_[redacted]',
    });
    const completed = records.find((r) => r.msg === 'request completed');
    expect(completed).toMatchObject({
      requestId: 'req_test123',
      tenantId: 'tenant_42',
      model: 'marquee-tiny',
      route: '/v1/echo',
      statusCode: 201,
      // OpenAI's `user`: the caller's id for its end user, kept for tracing abuse.
      endUser: 'end-user-7',
    });
  });
});
