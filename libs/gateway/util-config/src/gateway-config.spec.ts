import { GatewayConfig } from './gateway-config';

const TOKEN = 'mqa_test_token_0123456789abcdef';

describe('GatewayConfig', () => {
  it('stops with a message naming a missing required variable', () => {
    expect(() => GatewayConfig.fromEnv({})).toThrow(
      'invalid configuration: MARQUEE_ADMIN_TOKEN is required',
    );
  });

  it('names every bad variable at once', () => {
    expect(() =>
      GatewayConfig.fromEnv({
        MARQUEE_ADMIN_TOKEN: TOKEN,
        PORT: 'eighty',
        REDIS_URL: 'http://localhost:6379',
        SHUTDOWN_GRACE_MS: '-1',
      }),
    ).toThrow(/PORT: .*; REDIS_URL: .*; SHUTDOWN_GRACE_MS: /);
  });

  it('never echoes a secret value in its error or in the logged summary', () => {
    let message = '';
    try {
      GatewayConfig.fromEnv({ MARQUEE_ADMIN_TOKEN: 'mqa_short' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/MARQUEE_ADMIN_TOKEN: must be at least 16/);
    expect(message).not.toContain('mqa_short');

    const config = GatewayConfig.fromEnv({
      MARQUEE_ADMIN_TOKEN: TOKEN,
      DATABASE_URL: 'postgresql://app:pg-secret@db:5432/marquee',
    });
    const summary = JSON.stringify(config.describe());
    expect(summary).not.toContain(TOKEN);
    expect(summary).not.toContain('pg-secret');
    expect(summary).toContain('postgresql://app:***@db:5432/marquee');
  });

  it('reads the shutdown deadlines', () => {
    const config = GatewayConfig.fromEnv({
      MARQUEE_ADMIN_TOKEN: TOKEN,
      SHUTDOWN_GRACE_MS: '5000',
      SHUTDOWN_DELAY_MS: '1000',
    });
    expect(config.shutdownGraceMs).toBe(5000);
    expect(config.shutdownDelayMs).toBe(1000);
  });

  it('serves metrics on their own port: 9465 by default, never the API port', () => {
    expect(
      GatewayConfig.fromEnv({ MARQUEE_ADMIN_TOKEN: TOKEN }).metricsPort,
    ).toBe(9465);
    expect(
      GatewayConfig.fromEnv({
        MARQUEE_ADMIN_TOKEN: TOKEN,
        METRICS_PORT: '9100',
      }).metricsPort,
    ).toBe(9100);
    expect(() =>
      GatewayConfig.fromEnv({
        MARQUEE_ADMIN_TOKEN: TOKEN,
        PORT: '9000',
        METRICS_PORT: '9000',
      }),
    ).toThrow(/METRICS_PORT: must differ from PORT/);
    expect(() =>
      GatewayConfig.fromEnv({
        MARQUEE_ADMIN_TOKEN: TOKEN,
        METRICS_PORT: '70000',
      }),
    ).toThrow(/METRICS_PORT: /);
  });

  it('allows no cross-origin browser calls unless MARQUEE_CORS_ORIGINS says which', () => {
    const cors = (value?: string) =>
      GatewayConfig.fromEnv({
        MARQUEE_ADMIN_TOKEN: TOKEN,
        ...(value === undefined ? {} : { MARQUEE_CORS_ORIGINS: value }),
      }).corsOrigins;
    expect(cors()).toEqual([]);
    expect(cors('')).toEqual([]);
    expect(cors('*')).toBe('*');
    expect(cors(' https://app.example.com, http://localhost:5173 ,')).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    expect(
      GatewayConfig.fromEnv({ MARQUEE_ADMIN_TOKEN: TOKEN }).describe()
        .corsOrigins,
    ).toBe('none');
  });

  it.each([
    ['a trailing slash', 'https://app.example.com/'],
    ['a path', 'https://app.example.com/chat'],
    ['no scheme', 'app.example.com'],
    ['another scheme', 'ftp://app.example.com'],
    ['* beside origins', 'https://app.example.com,*'],
  ])(
    'refuses MARQUEE_CORS_ORIGINS with %s, naming the variable',
    (_, value) => {
      expect(() =>
        GatewayConfig.fromEnv({
          MARQUEE_ADMIN_TOKEN: TOKEN,
          MARQUEE_CORS_ORIGINS: value,
        }),
      ).toThrow(/MARQUEE_CORS_ORIGINS: entry \d is not an origin/);
    },
  );
});
