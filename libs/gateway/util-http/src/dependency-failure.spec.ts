import { unavailableDependency } from './dependency-failure';

const prismaError = (code: string, meta?: object) =>
  Object.assign(new Error('Invalid `prisma.model.findMany()` invocation'), {
    name: 'PrismaClientKnownRequestError',
    code,
    meta,
  });

describe('unavailableDependency', () => {
  it('recognises PostgreSQL out of reach, whatever layer reports it', () => {
    expect(unavailableDependency(prismaError('P1001'))).toBe('database');
    expect(
      unavailableDependency(
        prismaError('P2010', {
          driverAdapterError: {
            cause: { kind: 'postgres', originalCode: '57P01' },
          },
        }),
      ),
    ).toBe('database');
    expect(
      unavailableDependency(
        new Error('Connection terminated due to connection timeout'),
      ),
    ).toBe('database');
    expect(
      unavailableDependency(
        Object.assign(new Error('the database system is starting up'), {
          code: '57P03',
          severity: 'FATAL',
        }),
      ),
    ).toBe('database');
    expect(
      unavailableDependency(
        Object.assign(new Error('x'), {
          name: 'PrismaClientInitializationError',
        }),
      ),
    ).toBe('database');
  });

  it('recognises Redis out of reach, also as the cause of another error', () => {
    const maxRetries = Object.assign(new Error('Reached the max retries'), {
      name: 'MaxRetriesPerRequestError',
    });
    expect(unavailableDependency(maxRetries)).toBe('redis');
    expect(unavailableDependency(new Error('Connection is closed.'))).toBe(
      'redis',
    );
    expect(unavailableDependency(new Error('Command timed out'))).toBe('redis');
    expect(
      unavailableDependency(new Error('enqueue failed', { cause: maxRetries })),
    ).toBe('redis');
  });

  it('leaves programming errors and refused writes alone (they stay 500 or 409)', () => {
    expect(unavailableDependency(new TypeError('x is undefined'))).toBeNull();
    expect(unavailableDependency(prismaError('P2002'))).toBeNull();
    expect(
      unavailableDependency(
        prismaError('P2010', {
          driverAdapterError: {
            cause: { kind: 'postgres', originalCode: '22021' },
          },
        }),
      ),
    ).toBeNull();
    expect(unavailableDependency('boom')).toBeNull();
  });

  it('counts a bare socket error as some service being unreachable', () => {
    expect(
      unavailableDependency(
        Object.assign(new Error('connect ECONNREFUSED'), {
          code: 'ECONNREFUSED',
        }),
      ),
    ).toBe('network');
  });
});
